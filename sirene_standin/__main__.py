"""python -m sirene_standin [--host 127.0.0.1] [--port 8765] [--key demo-sirene-key] [--quota 30] [--check]

The port defaults to $SIRENE_STANDIN_PORT, else 8765. `--check` starts nothing: exit 0 when
the port is free, 3 when a stand-in already serves there (to reuse), 1 when something
else holds it.
"""

import argparse
import errno
import os
import signal
import sys

from sirene_standin.ports import busy_message, is_free, is_standin
from sirene_standin.server import DEFAULT_KEY, DEFAULT_PORT, DEFAULT_QUOTA, StandinServer

PORT_VARIABLE = "SIRENE_STANDIN_PORT"
ALREADY_RUNNING = 3


def _default_port():
    value = os.environ.get(PORT_VARIABLE, "")
    return int(value) if value.isdigit() else DEFAULT_PORT


def _busy(host, port, reuse):
    """The one line to print when the port is taken, and the exit status."""
    if not is_standin(port, host):
        return busy_message(port, PORT_VARIABLE), 1
    if reuse:
        return f"Serveur Sirene local : déjà démarré sur le port {port}, il est réutilisé.", ALREADY_RUNNING
    return (
        f"Un serveur Sirene local tourne déjà sur le port {port} : utilisez-le, ou choisissez un autre "
        f"port avec {PORT_VARIABLE}=…."
    ), 1


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sirene_standin",
        description="Serveur local qui remplace l’API Sirene 3.11 de l’INSEE (données de démonstration).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="adresse d’écoute (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=_default_port(), help=f"port (${PORT_VARIABLE}, sinon {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--key", default=DEFAULT_KEY, help=f"clé attendue dans X-INSEE-Api-Key-Integration ({DEFAULT_KEY})"
    )
    parser.add_argument(
        "--quota", type=int, default=DEFAULT_QUOTA, help=f"requêtes par minute et par clé ({DEFAULT_QUOTA})"
    )
    parser.add_argument("--data", default=None, help="fichier JSON des établissements (data.json du paquet)")
    parser.add_argument("--quiet", action="store_true", help="ne pas journaliser chaque requête")
    parser.add_argument(
        "--check",
        action="store_true",
        help="vérifier seulement le port : 0 libre, 3 serveur local déjà démarré, 1 occupé",
    )
    args = parser.parse_args(argv)

    if args.check:
        if is_free(args.port, args.host):
            return 0
        message, status = _busy(args.host, args.port, reuse=True)
        print(message, file=sys.stderr)
        return status

    try:
        server = StandinServer(
            host=args.host,
            port=args.port,
            key=args.key,
            quota=args.quota,
            data_file=args.data,
            verbose=not args.quiet,
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            message, status = _busy(args.host, args.port, reuse=False)
            print(message, file=sys.stderr)
            return status
        print(
            f"Serveur Sirene local : impossible d’écouter sur {args.host}:{args.port} ({error}).",
            file=sys.stderr,
        )
        return 1
    # `make run` stops it with SIGTERM: leave as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    print(
        f"Serveur Sirene local : {server.url} (clé « {args.key} », {args.quota} requêtes par minute, "
        f"{len(server.sirets())} établissements)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
