"""The vetgraph test suite. A package, so that its modules import the shared helpers as `tests.helpers...`
from any working folder (pytest puts the checkout, the package's parent, on the import path)."""
