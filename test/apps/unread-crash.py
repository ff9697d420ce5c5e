# An app that dies without reading: it accepts connections (so a sidecar sees it listening) and,
# as soon as any of them has request bytes waiting, SIGKILLs itself with those bytes unread, so the
# kernel resets the connection. test/e2e/failover.test.ts. Port from argv[1].
import os
import select
import signal
import socket
import sys

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(64)
print("listening", flush=True)
conns = []
while True:
    readable, _, _ = select.select([server] + conns, [], [])
    for s in readable:
        if s is server:
            c, _ = server.accept()
            conns.append(c)
        elif s.recv(1, socket.MSG_PEEK):
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            conns.remove(s)  # a probe's connection closed without sending anything
            s.close()
