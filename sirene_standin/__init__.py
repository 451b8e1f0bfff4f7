"""A local stand-in for the INSEE Sirene 3.11 API: the same HTTP and JSON, demo data,
no network. Development (`make run`) and the tests talk to it over real HTTP.

    python -m sirene_standin --port 8765 --key demo-sirene-key

or, from Python (tests):

    server = StandinServer(port=0, quota=5).start()
    server.url        # http://127.0.0.1:<port>/api-sirene/3.11
    server.update("81234567600017", {"adresseEtablissement": {"libelleCommuneEtablissement": "Lille"}})
    server.reset()
    server.stop()
"""

from sirene_standin.server import DEFAULT_KEY, DEFAULT_PORT, PREFIX, StandinServer

__all__ = ["DEFAULT_KEY", "DEFAULT_PORT", "PREFIX", "StandinServer"]
