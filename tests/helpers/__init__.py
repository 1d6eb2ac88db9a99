"""What several test modules share; no test module imports another one.

- `tests.helpers.shared`: where the fixtures and ../shared are; skip (or fail under CI=true) when absent.
- `tests.helpers.servers`: free ports, waiting for and stopping servers, `oxigraph serve`, a scripted fake
  HTTP server, the in-process app client.
- `tests.helpers.rdf`: comparing datasets parsed by different tools, and query results from different engines.
- `tests.helpers.build`: the fixture project of tests/data/build and its release.

The tests import the checkout's `bench` package where they test it (its runner) and for `stop_process`, which the
benchmarks use too: the suite is a package, so pytest puts its parent folder, the checkout, on the import path.
"""
