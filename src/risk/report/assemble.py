"""Assembling the auditors' report: eleven sections into one self-contained HTML page.

:func:`build_report` reads a registered version and its run (:mod:`risk.report.run`),
optionally the data (:mod:`risk.report.population`), calls each section builder in order
and renders ``risk/templates/report/report.html.j2`` with the stylesheet inlined and every
figure embedded as a ``data:`` URI, so that the file can be mailed, archived or printed
without anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, StrictUndefined, select_autoescape

from risk.registry import TAG_CODE_VERSION, Registry
from risk.report.blocks import Section
from risk.report.context import ReportContext
from risk.report.explanations import explanations
from risk.report.monitoring import monitoring
from risk.report.population import Populations, load_populations
from risk.report.run import load_run
from risk.report.sections_governance import limits, oversight
from risk.report.sections_model import data, identity, intended_use, legal_basis, method
from risk.report.sections_results import groups, performance
from risk.report.text import Text

#: The section builders, in the report's order (sections 1 to 11).
SECTIONS: tuple[Callable[[ReportContext], Section], ...] = (
    identity,
    intended_use,
    legal_basis,
    data,
    method,
    performance,
    groups,
    explanations,
    oversight,
    monitoring,
    limits,
)
TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


@dataclass
class Report:
    """A built report.

    Attributes
    ----------
    html
        The self-contained HTML page.
    sections
        The sections as data (for tests and other renderings).
    notes
        Integration notes gathered while building (which fallbacks were used).
    """

    html: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    def write(self, path: str | Path) -> Path:
        """Write the HTML page (its folder is created) and return its path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html, encoding="utf-8")
        return target


def _environment() -> Environment:
    folder = files("risk") / "templates" / "report"
    environment = Environment(
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["css"] = (folder / STYLESHEET).read_text(encoding="utf-8")
    return environment


def render(ctx: ReportContext, sections: list[Section]) -> str:
    """Render the sections into the HTML page."""
    t = ctx.text
    environment = _environment()
    source = (files("risk") / "templates" / "report" / TEMPLATE).read_text(encoding="utf-8")
    template = environment.from_string(source)
    description = ctx.run.description
    return template.render(
        lang=t.lang,
        title=t("meta.title"),
        subtitle=t(
            "meta.subtitle",
            name=description.name,
            version=description.version,
            generated=ctx.generated.strftime("%Y-%m-%d %H:%M UTC"),
        ),
        banner=t("meta.banner"),
        contents=t("meta.contents"),
        sections=sections,
        footer=t(
            "meta.footer",
            code_version=description.tags.get(
                TAG_CODE_VERSION, ctx.run.manifest.get("code_version")
            ),
            run_id=description.run_id,
        ),
    )


def build_report(
    registry: Registry,
    model: str = "models:/arrears-risk@champion",
    *,
    data_dir: str | Path | None = None,
    mapping: str | Path | None = None,
    lang: str = "fr",
    populations: Populations | None = None,
    generated: dt.datetime | None = None,
    threads: int = 1,
) -> Report:
    """Build the auditors' report of one registered model version.

    Parameters
    ----------
    registry
        Registry holding the model and its training run.
    model
        ``models:/arrears-risk@<alias>`` or ``models:/arrears-risk/<version>``.
    data_dir
        Export folder: sections 8 (explanations) and 10 (monitoring) are computed on its
        latest month and training window; without it they say how to get them.
    mapping
        Column mapping of the export.
    lang
        ``fr`` (default) or ``en``.
    populations
        Already built populations (both languages of one report share them).
    generated
        Time written in the report; now by default.
    threads
        DuckDB and LightGBM threads.

    Returns
    -------
    Report
    """
    text = Text(lang)
    run = load_run(registry, model)
    if populations is None and data_dir is not None:
        populations = load_populations(data_dir, run.bundle, mapping=mapping, threads=threads)
    ctx = ReportContext(run, text, populations)
    if generated is not None:
        ctx.generated = generated
    sections = [build(ctx) for build in SECTIONS]
    return Report(render(ctx, sections), sections, ctx.notes)
