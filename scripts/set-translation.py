"""Set Chinese translations from the command line: set-translation.py 'msgid=译文' ...

Clears the fuzzy flag of each message it sets; used after scripts/update-translations.
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def main(pairs: list[str]) -> int:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    for pair in pairs:
        msgid, _, text = pair.partition("=")
        message = catalog.get(msgid)
        if message is None:
            print(f"not in the catalog: {msgid}", file=sys.stderr)
            return 1
        message.string = text
        message.flags.discard("fuzzy")
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_by_file=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
