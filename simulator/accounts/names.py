"""Readable names of the metrics, in English and Chinese.

One table for every place that shows a metric to a reader: the Excel workbooks
(:mod:`simulator.workflows.workbook`), the figures and the board pack
(:mod:`simulator.presentation.labels`). It imports nothing, so the command line's
``--help`` (which reads the languages of the labels) stays light.
"""

LANGUAGES = ("en", "zh")
"""The languages of the names, in the order of each entry of :data:`READABLE_NAMES`."""

READABLE_NAMES = {
    "peak_overdue_rate_1_30": ("peak overdue 1-30", "逾期1-30天峰值"),
    "peak_overdue_rate_31_90": ("peak overdue 31-90", "逾期31-90天峰值"),
    "peak_overdue_rate_90p": ("peak overdue 90+", "逾期90天以上峰值"),
    "final_overdue_rate_1_30": ("final overdue 1-30", "期末逾期1-30天"),
    "final_overdue_rate_31_90": ("final overdue 31-90", "期末逾期31-90天"),
    "final_overdue_rate_90p": ("final overdue 90+", "期末逾期90天以上"),
    "cumulative_loss_rate": ("cumulative loss", "累计损失率"),
    "total_collections_shortfall": ("collections missed against schedule", "应收未收款合计"),
    "min_liquidity_buffer": ("lowest liquidity buffer", "流动性缓冲最低值"),
    "peak_provision_requirement": ("peak provision need", "拨备要求峰值"),
    "m1_collection_rate": ("M1 collection rate", "M1回收率"),
    "m1_cure_rate": ("M1 cure rate", "M1治愈率"),
    "peak_ifrs9_ecl": ("peak IFRS 9 ECL", "IFRS 9预期信用损失峰值"),
    "peak_five_category_minimum": ("peak five-category minimum", "五级分类最低拨备峰值"),
    "ifrs9_binding_share": ("share of months IFRS 9 binds", "IFRS 9约束月份占比"),
    "peak_npl_ratio": ("peak NPL ratio", "不良率峰值"),
    "min_coverage_ratio": ("lowest coverage ratio", "拨备覆盖率最低值"),
    "min_loan_provision_ratio": ("lowest loan-provision ratio", "贷款拨备率最低值"),
    "coverage_floor_breached": ("coverage floor breached (share of paths)", "拨备覆盖率低于下限概率"),
    "loan_provision_floor_breached": ("loan-provision floor breached (share of paths)", "贷款拨备率低于下限概率"),
    "max_provision_shortfall": ("largest provision shortfall", "拨备缺口最大值"),
    "total_provision_charge": ("total provision charge", "拨备计提合计"),
    "survival_horizon_months": ("month cash reaches its floor (paths that reach it)", "现金降至底线月份（触及路径）"),
    "liquidity_breached": ("cash reaches its floor (share of paths)", "现金降至底线概率"),
    "lending_stop_probability": ("lending stops (share of paths)", "停止放款概率"),
    "lending_stop_month": ("month lending stops (paths that stop)", "停止放款月份（停止路径）"),
    "peak_emergency_funding": ("peak emergency funding drawn", "紧急融资峰值"),
    "total_emergency_funding_cost": ("cost of emergency funding", "紧急融资成本"),
    "failure_probability": ("lender fails (share of paths)", "经营失败概率"),
    "failure_month": ("month the lender fails (paths that fail)", "经营失败月份（失败路径）"),
    "min_liquidity_ratio": ("lowest liquidity ratio", "流动性比率最低值"),
    "liquidity_ratio_breached": ("liquidity ratio breached (share of paths)", "流动性比率低于下限概率"),
    "abs_trigger_hit": ("ABS trigger hit (share of paths)", "ABS触发事件概率"),
    "cumulative_profit": ("cumulative profit", "累计利润"),
    "min_capital_ratio": ("lowest capital ratio", "资本充足率最低值"),
    "capital_floor_breached": ("capital floor breached (share of paths)", "资本充足率低于下限概率"),
    "total_action_cost": ("cost of actions", "管理措施成本"),
    "total_collection_cost": ("cost of collection actions", "催收措施成本"),
    "total_restructuring_cost": ("cost of restructuring", "重组成本"),
    "restructurings": ("restructured loans", "重组贷款笔数"),
    "redefault_rate": ("re-default rate of restructured loans", "重组贷款再违约率"),
    "new_vintage_ever_90p_rate_12m": ("new loans ever 90+ within 12 months", "新发放贷款12个月内曾逾期90天以上比例"),
    "peak_book_unemployment_rate": ("peak unemployment among borrowers", "借款人失业率峰值"),
    "loss_var_99": ("99% VaR of loss", "损失99%风险价值"),
    "loss_es_99": ("99% expected shortfall of loss", "损失99%预期短缺"),
    "loss_var_999": ("99.9% VaR of loss", "损失99.9%风险价值"),
    "loss_es_999": ("99.9% expected shortfall of loss", "损失99.9%预期短缺"),
    "cumulative_loss_contribution": ("contribution to the book's loss", "对组合损失的贡献"),
    "loss_share": ("share of the book's loss", "占组合损失比例"),
    "provision_share": ("share of the book's ECL", "占组合预期信用损失比例"),
}
"""Metric name -> (English, Chinese) readable name, for every headline, tail and segment metric: what the Excel
workbook (workflows) and the figures and board pack (presentation) show instead of the snake_case name."""


def metric_name(name, lang="en"):
    """The readable name of metric ``name`` in ``lang`` (``"en"`` or ``"zh"``, :data:`READABLE_NAMES`); its own name
    with spaces for underscores if it has none."""
    names = READABLE_NAMES.get(name)
    return names[LANGUAGES.index(lang)] if names else name.replace("_", " ")
