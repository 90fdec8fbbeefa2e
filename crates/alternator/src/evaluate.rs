//! Evaluation: regression metrics (Spark RegressionEvaluator) and ranking metrics at K.
