"""Ports of the local servers (`make run`, `make prod-local`): a port already taken gives
one clear line with the variable that changes it, instead of a traceback.

    python -m sirene_standin.ports PORT [VARIABLE]   # exit 1, with that line, when PORT is taken

Standard library only: it runs before anything else is set up.
"""

import errno
import json
import socket
import sys
import urllib.error
import urllib.request

HOST = "127.0.0.1"


def busy_message(port: int, variable: str) -> str:
    return (
        f"Le port {port} est déjà utilisé : choisissez-en un autre avec {variable}=… "
        "(ou arrêtez le programme qui l’occupe)."
    )


def is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on the port now. SO_REUSEADDR as the servers set it:
    connections of a previous run still closing do not count as taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def is_standin(port: int, host: str = HOST) -> bool:
    """Whether the server on the port is a Sirene stand-in (its control route answers)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_standin", timeout=2) as response:
            return "etablissements" in json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or not args[0].isdigit():
        print("usage : python -m sirene_standin.ports PORT [VARIABLE]", file=sys.stderr)
        return 2
    port, variable = int(args[0]), (args[1] if len(args) > 1 else "PORT")
    if is_free(port):
        return 0
    print(busy_message(port, variable), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
