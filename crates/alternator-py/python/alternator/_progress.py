"""Progress bars: tqdm's when it is installed, nothing otherwise."""

from __future__ import annotations

from typing import Any, Optional


def progress_bar(total: int, show: bool) -> Optional[Any]:
    """A tqdm bar of ``total`` steps (``tqdm.auto``: a widget in notebooks), or ``None`` when
    ``show`` is false or tqdm is not installed."""
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total)
