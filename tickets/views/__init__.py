"""The agent inbox (server-rendered pages, a small script, a cheap poll) and the CSAT page."""
