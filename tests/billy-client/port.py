"""Ports billy-client 0.0.8's api.py from Python 2 to Python 3, mechanically.

Its only Python 2 parts are the `urlparse` module, `urllib.urlencode`, `dict.iteritems()` and `unicode(`. Each is
replaced by its Python 3 spelling, and nothing else in the client is changed: the suite tests Billy's own code.
Every replacement must match exactly as often as expected, so a different upstream file fails loudly.
"""
import sys

REPLACEMENTS = [
    ("import urlparse\n", "import urllib.parse as urlparse\n", 1),
    ("import urllib\n", "import urllib.parse\n", 1),
    ("urllib.urlencode(", "urllib.parse.urlencode(", 1),
    (".iteritems()", ".items()", 1),
    ("unicode(", "str(", 2),
]

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    text = f.read()
for old, new, count in REPLACEMENTS:
    found = text.count(old)
    if found != count:
        sys.exit(f"port.py: expected {count} of {old!r} in {path}, found {found}")
    text = text.replace(old, new)
with open(path, "w", encoding="utf-8") as f:
    f.write(text)
