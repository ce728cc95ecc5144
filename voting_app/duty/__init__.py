"""Duty records (履职档案): per deputy and term, sessions attended, check-ins, supervision visits,
office history and every other named figure; pages and an Excel export for the committee's
duty-evaluation work (履职评价). Stands above sessions and projects; reads no ballot table."""
