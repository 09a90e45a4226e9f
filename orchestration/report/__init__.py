"""Reports rendered from the warehouse: static HTML files written beside it (`reports_dir`)."""

from orchestration.report.auditor import AuditorReport, build_auditor_report, render_auditor_report

__all__ = ["AuditorReport", "build_auditor_report", "render_auditor_report"]
