"""The results database: every run, meter and measurement, written as measured (writer.py),
and what is read back from it: certificates (certificate.py) and reports (report.py)."""
