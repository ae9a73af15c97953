"""The figures screen: consult's figures per organisation or specialty over a period, as
server-drawn SVG charts with their numbers in tables, and each table as CSV."""
