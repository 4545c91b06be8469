"""resp_client: the RESP encoder and the small blocking client that the
bug-lab drivers (close_churn.py, info_crosstalk.py, loader_driver.py)
share. Each driver is run as a script from this folder, so Python finds
this module beside it. Not a general client: it reads just the reply
kinds the scenarios check, and a connection belongs to one thread."""
import socket


def encode(*args):
    """One command as a RESP array of bulk strings (str or bytes)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A connection to 127.0.0.1:port with its unread bytes."""

    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(1 << 16)
        if not d:
            raise ConnectionError("connection closed by the server")
        self.buf += d

    def line(self):
        """The next line, without its CRLF."""
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                ln, self.buf = self.buf[:i], self.buf[i + 2:]
                return ln
            self._fill()

    def bulk(self):
        """(bytes, header) for a bulk reply; (None, header) for anything else."""
        head = self.line()
        if not head.startswith(b"$"):
            return None, head
        n = int(head[1:])
        if n < 0:
            return None, head
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data, head

    def reply(self):
        """('bulk', bytes) | ('nil', None) | ('err', str) | ('simple', str)
        | ('int', int) | ('array', [...]) | ('bad', the line)"""
        line = self.line()
        t, rest = line[:1], line[1:]
        if t == b"$":
            n = int(rest)
            if n < 0:
                return ("nil", None)
            while len(self.buf) < n + 2:
                self._fill()
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return ("bulk", v)
        if t == b"-":
            return ("err", rest.decode(errors="replace"))
        if t == b"+":
            return ("simple", rest.decode(errors="replace"))
        if t == b":":
            return ("int", int(rest))
        if t == b"*":
            return ("array", [self.reply() for _ in range(int(rest))])
        return ("bad", line.decode(errors="replace"))

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass
