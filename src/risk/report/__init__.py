"""The auditors' report (issue #5): one registered model, eleven sections, HTML and PDF.

``risk report`` builds it from a registered version and its MLflow run, in French by
default::

    from risk.registry import Registry
    from risk.report import build_report, print_pdf

    report = build_report(Registry("mlruns"), "models:/arrears-risk@champion",
                          data_dir="export/", lang="fr")
    html = report.write("reports/champion.html")
    print_pdf(html, "reports/champion.pdf")

Layout: :mod:`~risk.report.run` reads the registry, :mod:`~risk.report.population`
the data, :mod:`~risk.report.sections_model` (1-5), :mod:`~risk.report.sections_results`
(6-7), :mod:`~risk.report.explanations` (8), :mod:`~risk.report.sections_governance`
(9, 11) and :mod:`~risk.report.monitoring` (10) build the sections,
:mod:`~risk.report.assemble` renders them with the templates of
``risk/templates/report/`` and :mod:`~risk.report.pdf` prints them.
"""

from risk.report.assemble import SECTIONS, Report, build_report
from risk.report.pdf import PdfError, find_chromium, print_pdf

__all__ = ["SECTIONS", "PdfError", "Report", "build_report", "find_chromium", "print_pdf"]
