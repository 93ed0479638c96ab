"""Plans in and out as XLSX workbooks: the layout (sheets), the writer and the reader."""
