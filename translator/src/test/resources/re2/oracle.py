# The oracle of EnvoyRegexOracleTest: RE2 (google-re2) in Latin-1 mode, as Envoy runs it.
# Reads one hex-encoded UTF-8 pattern per line; answers "OK <program size>" or "ERR <message>".
import sys

import re2

options = re2.Options()
options.encoding = re2.Options.Encoding.LATIN1
options.log_errors = False
for line in sys.stdin:
    pattern = bytes.fromhex(line.strip())
    try:
        print("OK", re2.compile(pattern, options).programsize, flush=True)
    except re2.error as e:
        print("ERR", str(e).replace("\n", " "), flush=True)
