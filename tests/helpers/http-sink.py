#!/usr/bin/python3
"""http-sink: a loopback HTTP proxy stand-in for browser tests.

Listens on 127.0.0.1 (a free port, printed on the first line of stdout),
records the request line of every connection in LOG, answers 404, and
exits after IDLE seconds without a connection.  Pointing a browser's
--proxy-server here keeps every request it makes on this machine.

    http-sink.py LOG [IDLE]
"""
import socket
import sys
import threading


def serve(conn, log, lock):
    try:
        conn.settimeout(5)
        line = conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]
        with lock:
            log.write(line + "\n")
            log.flush()
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 120
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(idle)
    print(sock.getsockname()[1], flush=True)
    lock = threading.Lock()
    with open(sys.argv[1], "a") as log:
        while True:
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                break
            threading.Thread(target=serve, args=(conn, log, lock), daemon=True).start()


if __name__ == "__main__":
    main()
