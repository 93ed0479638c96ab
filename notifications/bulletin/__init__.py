"""The 晾晒 bulletin as files: the email HTML, the chart, the XLSX workbook and the PDF."""
