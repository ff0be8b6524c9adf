"""The documented CSV format (docs/reference/csv-format.md): one file per kind of fact.

>>> from loaders.csvset import CSV_FILES
>>> "devices.csv" in CSV_FILES
True
"""

from loaders.csvset.fields import Column, ColumnType
from loaders.csvset.format import CSV_FILES, CsvFile
from loaders.csvset.reader import SOURCE_SYSTEM, parse_csv_path, parse_csv_text

__all__ = ["CSV_FILES", "SOURCE_SYSTEM", "Column", "ColumnType", "CsvFile", "parse_csv_path", "parse_csv_text"]
