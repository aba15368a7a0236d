"""Practice advice at hand: search over practice notes and the directory of who can help."""
