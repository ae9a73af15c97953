"""Two instances of each service behind one gateway, against one database."""
