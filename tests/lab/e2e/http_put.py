#!/usr/bin/env python3
"""The e2e lab's HTTP target (tests/lab/kdump_e2e.sh --target http): takes
PUT requests, with Content-Length or chunked, into ROOT/<url path>, as
NAME.incomplete renamed to NAME once the body is whole.

    http_put.py ADDRESS PORT ROOT
"""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Put(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self):
        rel = os.path.normpath(self.path.split("?")[0]).lstrip("/")
        if rel.startswith(".."):
            self.send_error(403)
            return
        dest = os.path.join(self.server.root, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = dest + ".incomplete"
        whole = False
        with open(tmp, "wb") as f:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while True:
                    line = self.rfile.readline()
                    if not line:
                        break
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        whole = True
                        break
                    left = size
                    while left:
                        data = self.rfile.read(min(left, 1 << 20))
                        if not data:
                            break
                        f.write(data)
                        left -= len(data)
                    if left:
                        break
                    self.rfile.readline()
            else:
                left = int(self.headers.get("Content-Length", "0"))
                while left:
                    data = self.rfile.read(min(left, 1 << 20))
                    if not data:
                        break
                    f.write(data)
                    left -= len(data)
                whole = left == 0
        if whole:
            os.rename(tmp, dest)
        print(f"PUT {self.path} {'whole' if whole else 'cut'} {os.path.getsize(dest if whole else tmp)}",
              flush=True)
        self.send_response(201 if whole else 400)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()


def main():
    addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    srv = ThreadingHTTPServer((addr, port), Put)
    srv.root = root
    srv.serve_forever()


if __name__ == "__main__":
    main()
