"""Migration revisions, oldest first: 0001 core tables, 0002 pipeline tables."""
