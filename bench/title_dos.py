"""Title denial-of-service probe (issue 16): hostile `liked_titles` bodies against `serve`, and the
latency of a normal GET /v1/recommend while two of them are in flight.

Usage: python3 bench/title_dos.py BINARY MODEL U_ITEM
  e.g. target/release/alternator fit --train ../shared/data/ml-100k/u.data --model /tmp/ml.alt
       python3 bench/title_dos.py target/release/alternator /tmp/ml.alt ../shared/data/ml-100k/u.item
"""
import socket, time, threading, json, subprocess, sys
A, MODEL, META = sys.argv[1:4]
p = subprocess.Popen([A, "serve", "--model", MODEL, "--items-meta", META, "--addr", "127.0.0.1:0", "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
line = p.stdout.readline().decode()
host, port = line.strip().split("//")[1].split(":")
port = int(port)
def req(method, path, body=b""):
    s = socket.create_connection((host, port))
    head = f"{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {len(body)}\r\n\r\n".encode()
    t = time.perf_counter()
    s.sendall(head + body)
    data = b""
    while True:
        c = s.recv(65536)
        if not c: break
        data += c
    dt = time.perf_counter() - t
    s.close()
    return int(data.split(b" ")[1]), dt
big = json.dumps({"liked_titles": ["Star Wars " * 30000]}).encode()  # ~300 KB
print("300 KB title body:", len(big), "bytes ->", *req("POST", "/v1/recommend", big))
many = json.dumps({"liked_titles": ["x" * 90 + str(i) for i in range(9000)]}).encode()
print("9000 titles:", len(many), "bytes ->", *req("POST", "/v1/recommend", many))
ok = json.dumps({"liked_titles": ["Star Wars", "Fargo", "Toy Story"]}).encode()
print("3 titles:", *req("POST", "/v1/recommend", ok))
# two hostile requests in flight, repeatedly, while measuring GET latency
stop = False
def hostile():
    while not stop:
        req("POST", "/v1/recommend", big)
ts = [threading.Thread(target=hostile) for _ in range(2)]
for t in ts: t.start()
lat = []
for i in range(500):
    st, dt = req("GET", "/v1/recommend?user=%d&n=10" % (1 + i % 900))
    assert st == 200
    lat.append(dt)
stop = True
for t in ts: t.join()
lat.sort()
print("GET /v1/recommend with 2 hostile title requests in flight: p50 %.2f ms, p99 %.2f ms, max %.2f ms (500 requests)" % (lat[250]*1e3, lat[494]*1e3, lat[-1]*1e3))
p.kill()
