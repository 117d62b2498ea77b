"""Every fault and variant of the catalogue (faults.py) as a small named modifier.

Each module holds the modifiers of a few areas; each modifier names the seam(s) it changes
(seams.py says what each seam transforms). Importing this package registers them all;
seams.py does so before the first seam runs.
"""

from reference_server.modifiers import answers, outbound, pages, requests, shapes, startup, store

__all__ = ["answers", "outbound", "pages", "requests", "shapes", "startup", "store"]
