"""Words of the figures and the board pack, in English and Chinese.

Every label a figure or the report draws comes from :data:`TEXTS` through
:func:`text`, so a language is one column of this table. Metric names come from
:data:`simulator.accounts.names.READABLE_NAMES` (the workbooks use them too); a
metric without an entry is shown by its own name (underscores as spaces), so a new
headline metric appears in tables and the report without a change here.
"""

import re

from ..accounts.names import LANGUAGES, metric_name

TEXTS = {
    "name_with_shocks_at": ("{base} with {donor}'s shocks x {value}", "{base}（{donor}冲击×{value}）"),
    "name_at": ("{base}, shocks x {value}", "{base}（冲击×{value}）"),
    # axes and legends
    "month": ("month", "月份"),
    "median": ("median", "中位数"),
    "band": ("5-95% of paths", "5%-95%路径区间"),
    "share_of_balance": ("share of outstanding balance", "占贷款余额比例"),
    "paths": ("paths", "路径数"),
    "bucket_1_30": ("1-30 days past due", "逾期1-30天"),
    "bucket_31_90": ("31-90 days past due", "逾期31-90天"),
    "bucket_90p": ("90+ days past due", "逾期90天以上"),
    "loss_axis": ("cumulative net credit loss over {months} months, share of opening balance",
                  "{months}个月累计净信用损失占期初余额比例"),
    "mean": ("mean", "均值"),
    "var99": ("99% VaR", "99%风险价值"),
    "provision_axis": ("provision requirement, {currency}", "拨备要求（{currency}）"),
    "stage": ("Stage {stage}", "第{stage}阶段"),
    "five_category_minimum": ("five-category minimum", "五级分类最低拨备"),
    "coverage_axis": ("provisions / NPL", "拨备覆盖率（拨备/不良）"),
    "floor": ("regulatory floor {floor}", "监管底线{floor}"),
    "buffer_axis": ("liquidity buffer, {currency}", "流动性缓冲（{currency}）"),
    "survival_line": ("cash reaches its floor: month {month} (mean over the paths that reach it)",
                      "现金降至底线：第{month}个月（触及路径均值）"),
    "with_actions": ("with actions", "采取管理措施"),
    "without_actions": ("without actions", "不采取管理措施"),
    "footnote": ("scenario {scenarios} | seed {seed} | {paths} paths | {loans} loans | {date}",
                 "情景 {scenarios} | 随机种子 {seed} | 路径数 {paths} | 贷款笔数 {loans} | {date}"),
    "loss_contribution_axis": ("contribution to the {months}-month net loss rate (mean)",
                               "{months}个月累计净损失率的客群贡献（均值）"),
    # figure titles that state the finding
    "segments_title": ("Results by segment: 90+ overdue rates and who carries the loss",
                       "分客群结果：逾期90天以上比例与损失来源"),
    "segment_overdue_title": ("90+ overdue rate: {segment}'s median line peaks at {peak} ({scenario})",
                              "逾期90天以上比例：{segment}中位数曲线峰值{peak}（{scenario}）"),
    "segment_loss_title": ("{segment} carries {share} of the loss in {scenario}",
                           "{scenario}情景下{segment}承担{share}的损失"),
    "overdue_title_one": ("90+ overdue rate: the median line peaks at {peak} in {scenario}",
                          "逾期90天以上比例：{scenario}情景中位数曲线峰值为{peak}"),
    "overdue_title_many": ("90+ overdue rate: the median line peaks at {peak} in {scenario}, against "
                           "{reference_peak} in {reference}",
                           "逾期90天以上比例：{scenario}情景中位数曲线峰值为{peak}，{reference}情景为{reference_peak}"),
    "bucket_peak": ("{bucket}\nmedian line peaks at {peak} ({scenario}, month {month})",
                    "{bucket}\n中位数曲线峰值{peak}（{scenario}，第{month}个月）"),
    "loss_title_one": ("Credit loss over {months} months: mean {mean}, 99% VaR {var}",
                       "{months}个月信用损失：均值{mean}，99%风险价值{var}"),
    "loss_title_many": ("Credit loss: mean {mean} in {scenario} against {reference_mean} in {reference}",
                        "信用损失均值：{scenario}情景{mean}，{reference}情景{reference_mean}"),
    "provision_title": ("Provision requirement\nmedian line peaks at {peak} ({scenario})",
                        "拨备要求\n中位数曲线峰值{peak}（{scenario}）"),
    "coverage_title": ("Coverage ratio\nlowest median line falls to {low} ({scenario})",
                       "拨备覆盖率\n中位数曲线最低降至{low}（{scenario}）"),
    "liquidity_title_breach": ("Cash reaches its floor on {share} of paths in {scenario}; "
                               "the lender fails on {failed}",
                               "{scenario}情景下{share}的路径现金降至底线；{failed}的路径经营失败"),
    "liquidity_title_safe": ("Liquidity buffer stays above its floor on every path over {months} months",
                             "{months}个月内所有路径的流动性缓冲均高于底线"),
    "cash_may_go_negative": ("lending goes on when cash runs out (keep_lending): the buffer may go negative",
                             "现金耗尽后仍继续放款（keep_lending）：流动性缓冲可为负"),
    "action_title": ("{bucket}: peak {difference} points with actions (se {se})",
                     "{bucket}：采取措施后峰值变化{difference}个百分点（标准误{se}）"),
    "weighted_title": ("Probability-weighted ECL today: {total}", "概率加权预期信用损失（当前）：{total}"),
    "weighted_axis": ("IFRS 9 ECL, {currency} (mean over paths)", "IFRS 9预期信用损失（{currency}，路径均值）"),
    "weighted_line": ("probability-weighted", "概率加权"),
    "reverse_title": ("Breach '{condition}' first reached at {what} = {severity} ({level} interval {low} to {high})",
                      "在{what} = {severity}时首次达到违约条件“{condition}”（{level}置信区间{low}至{high}）"),
    "reverse_title_never": ("Breach '{condition}' not reached within {what} = {low} to {high}",
                            "在{what} = {low}至{high}范围内未达到违约条件“{condition}”"),
    "reverse_title_mild": ("Breach '{condition}' reached already at {what} = {severity}",
                           "在{what} = {severity}时已达到违约条件“{condition}”"),
    "reverse_probability_axis": ("share of paths breaching", "发生违约的路径比例"),
    "reverse_mean_axis": ("{metric} (mean over paths)", "{metric}（路径均值）"),
    "reverse_multiplier": ("severity multiplier on {shock}", "{shock}冲击的严重度倍数"),
    "reverse_all_shocks": ("every macro shock", "全部宏观冲击"),
    "reverse_target": ("target {target}", "目标{target}"),
    "reverse_found": ("breaking severity and interval", "临界严重度及其区间"),
    "reverse_points": ("runs (+-1.96 se)", "模拟运行（±1.96标准误）"),
    "reverse_footnote": ("scenario {scenario} | seed {seed} | {paths} paths | {loans} loans | {runs} runs | {date}",
                         "情景 {scenario} | 随机种子 {seed} | 路径数 {paths} | 贷款笔数 {loans} | 运行次数 {runs} | {date}"),
    "theme_reverse": ("Reverse stress test: what would it take to break us", "反向压力测试：何种冲击会突破底线"),
    "read_reverse_macro": ("At that severity unemployment peaks at {unemployment}% in month {month}, "
                           "income growth bottoms at {income}% in month {income_month}.",
                           "在该严重度下，失业率于第{month}个月达到峰值{unemployment}%，收入增速于第{income_month}个月降至{income}%。"),
    # the board pack
    "report_title": ("Consumer credit stress test", "消费信贷压力测试"),
    "report_subtitle": ("Board pack: {scenarios}", "董事会报告：{scenarios}"),
    "report_prepared": ("Prepared {date} with consumer-credit-stress {version}; {paths} Monte Carlo paths per scenario.",
                        "{date}由consumer-credit-stress {version}生成；每个情景{paths}条蒙特卡洛路径。"),
    "key_figures": ("Key figures (mean over paths; 5-95% in brackets)", "主要指标（路径均值；括号内为5%-95%区间）"),
    "scenario": ("scenario", "情景"),
    "theme_overdue": ("Overdue rates", "逾期率"),
    "theme_losses": ("Credit losses", "信用损失"),
    "theme_provisions": ("Provisions", "拨备"),
    "theme_liquidity": ("Liquidity", "流动性"),
    "theme_segments": ("Results by segment", "分客群结果"),
    "theme_actions": ("Management actions: {scenario}", "管理措施：{scenario}"),
    "theme_differences": ("What each scenario adds to {reference}", "各情景相对{reference}的变化"),
    "appendix_metrics": ("Appendix: every headline metric (mean over paths)", "附录：全部主要指标（路径均值）"),
    "appendix_scenario": ("Appendix: scenario {scenario} as run", "附录：{scenario}情景定义"),
    "appendix_metadata": ("Appendix: run metadata", "附录：运行信息"),
    "not_present": ("n/a", "无"),
    "unit": ("unit", "单位"),
    "column_unit_rate": ("%", "%"),
    "column_unit_probability": ("share of paths", "路径占比"),
    "column_unit_money": ("{unit}", "{unit}"),
    "column_unit_months": ("months", "月"),
    "column_unit_count": ("loans", "笔"),
    "findings_title": ("What the stress test finds", "压力测试主要结论"),
    "finding_loss": ("{scenario} loses {loss} of the opening book over {months} months on average; 1 path in 100 "
                     "loses more than {var}.",
                     "{scenario}情景{months}个月平均损失期初余额的{loss}；百分之一的路径损失超过{var}。"),
    "finding_loss_vs": ("{scenario} loses {loss} of the opening book over {months} months on average, against "
                        "{reference_loss} in {reference}; 1 path in 100 loses more than {var}.",
                        "{scenario}情景{months}个月平均损失期初余额的{loss}（{reference}情景为{reference_loss}）；"
                        "百分之一的路径损失超过{var}。"),
    "finding_breaks": ("What breaks: {what}.", "突破底线的情况：{what}。"),
    "finding_nothing_breaks": ("Nothing breaks: the liquidity buffer, the provision floors and the capital floor "
                               "hold on every path of every scenario.",
                               "所有情景的所有路径下，流动性缓冲、拨备底线和资本底线均未被突破。"),
    "finding_liquidity": ("in {scenario} cash reaches its floor on {share} of paths, in month {month} on average "
                          "(the lender fails on {failed})",
                          "{scenario}情景{share}的路径现金降至底线，平均在第{month}个月（{failed}的路径经营失败）"),
    "finding_coverage_breach": ("in {scenario} the coverage ratio falls below its floor on {share} of paths",
                                "{scenario}情景{share}的路径拨备覆盖率低于底线"),
    "finding_loan_provision_breach": ("in {scenario} the loan-provision ratio falls below its floor on {share} of "
                                      "paths", "{scenario}情景{share}的路径贷款拨备率低于底线"),
    "finding_capital_breach": ("in {scenario} the capital ratio falls below its floor on {share} of paths",
                               "{scenario}情景{share}的路径资本充足率低于底线"),
    "finding_provisions": ("The provision need peaks at {peak} on average in {scenario}, against {reference_peak} "
                           "in {reference}.",
                           "{scenario}情景拨备要求峰值平均为{peak}，{reference}情景为{reference_peak}。"),
    "finding_provisions_one": ("The provision need peaks at {peak} on average in {scenario}.",
                               "{scenario}情景拨备要求峰值平均为{peak}。"),
    "finding_actions": ("The management actions in {scenario} change the cumulative loss by {loss} points (se {se}) "
                        "at a cost of {cost}; cumulative profit changes by {profit}.",
                        "{scenario}情景的管理措施使累计损失率变化{loss}个百分点（标准误{se}），成本{cost}，"
                        "累计利润变化{profit}。"),
    "theme_weighted": ("Probability-weighted ECL", "概率加权预期信用损失"),
    "read_weighted": ("Probability-weighted ECL today: {total} ({stages}); scenarios: {contributions}.",
                      "当前概率加权预期信用损失：{total}（{stages}）；各情景：{contributions}。"),
    "assumption": ("assumption", "假设"),
    "value": ("value", "取值"),
    "resolved_yaml_note": ("The full scenario as run is scenario.resolved.yaml in each run directory.",
                           "完整情景定义见各运行目录中的scenario.resolved.yaml。"),
    "section_book": ("book", "资产组合"),
    "section_economy": ("economy", "宏观经济"),
    "section_behaviour": ("behaviour", "借款人行为"),
    "section_provisions": ("provisions", "拨备"),
    "section_funding": ("funding", "融资"),
    "section_actions": ("actions", "管理措施"),
    "a_source": ("source", "来源"),
    "a_loans": ("loans", "贷款笔数"),
    "a_opening_balance": ("opening balance", "期初余额"),
    "a_segments": ("segments (share of loans)", "客群（贷款占比）"),
    "a_horizon": ("horizon", "预测期"),
    "a_months": ("{months} months", "{months}个月"),
    "a_baseline": ("baseline", "基准"),
    "a_baseline_values": ("unemployment {unemployment}%, income growth {income}%, policy rate {rate}%",
                          "失业率{unemployment}%，收入增速{income}%，政策利率{rate}%"),
    "a_shock": ("shock {k}", "冲击{k}"),
    "a_none": ("none", "无"),
    "a_cycle": ("credit cycle", "信用周期"),
    "a_cycle_values": ("volatility {volatility} sd, persistence {persistence}, start {start}",
                       "波动率{volatility}个标准差，持续性{persistence}，起点{start}"),
    "a_model": ("model", "模型"),
    "a_floors": ("floors", "底线"),
    "a_floor_values": ("coverage {coverage}%, loan provisions {loans}%", "拨备覆盖率{coverage}%，贷款拨备率{loans}%"),
    "a_buffer": ("liquidity buffer (share of book)", "流动性缓冲（占组合比例）"),
    "a_liability": ("{kind}, {amount}% of book, {maturity} months, rollover {rollover}%{stressed}",
                    "{kind}，占组合{amount}%，期限{maturity}个月，续借率{rollover}%{stressed}"),
    "a_liability_stress": ("; from month {month} rollover {rollover}%", "；自第{month}个月起续借率{rollover}%"),
    "a_action_collections": ("collections", "催收"),
    "a_action_restructuring": ("restructuring", "贷款重组"),
    "a_action_originations": ("new lending", "新增放款"),
    "a_from_month": ("from month {month}", "自第{month}个月起"),
    "a_on": ("on", "启用"),
    "variable_unemployment": ("unemployment", "失业率"),
    "variable_income_growth": ("income growth", "收入增速"),
    "variable_policy_rate": ("policy rate", "政策利率"),
    "shape_step": ("step", "阶跃"),
    "shape_ramp": ("ramp", "渐进"),
    "shape_hump": ("hump", "驼峰"),
    "shock": ("{variable}: {shape} of {size} pp ({when})", "{variable}：{shape}冲击{size}个百分点（{when}）"),
    "shock_path": ("{variable}: {frequency} path {levels} %", "{variable}：{frequency}路径 {levels} %"),
    "timing_start_month": ("from month {value}", "第{value}个月开始"),
    "timing_peak_month": ("peak month {value}", "第{value}个月达峰"),
    "timing_end_month": ("to month {value}", "至第{value}个月"),
    "timing_hold_months": ("held {value} months", "持续{value}个月"),
    "timing_decay_months": ("decays over {value} months", "{value}个月内回落"),
    "never": ("never", "未耗尽"),
    # two-line readings of the report's theme pages
    "read_segments_loss": ("Shares of the loss in {scenario} (mean over paths, se): {shares}.",
                           "{scenario}情景下各客群损失占比（路径均值，标准误）：{shares}。"),
    "read_segments_provisions": ("Shares of the IFRS 9 ECL at its peak: {shares}; each segment's ECL uses its own "
                                 "PD and LGD rates, and the book's is their sum.",
                                 "IFRS 9预期信用损失峰值时各客群占比：{shares}；各客群使用自身的违约概率和违约损失率，"
                                 "全账簿为其加总。"),
    "read_overdue": ("In {scenario} the median 90+ overdue rate peaks at {peak} in month {month}; each path's own "
                     "peak lies between {low} and {high} on 90% of paths.",
                     "{scenario}情景逾期90天以上比例中位数于第{month}个月达到峰值{peak}；90%的路径自身峰值介于{low}至{high}。"),
    "read_overdue_m1": ("{share} of loans 1-30 days past due are collected before rolling to 31-60 days ({scenario}).",
                        "{scenario}情景下逾期1-30天贷款中{share}在滚动至31-60天前收回。"),
    "read_losses": ("Cumulative net credit loss averages {mean} of the opening book in {scenario}; "
                    "1 path in 100 loses more than {var}.",
                    "{scenario}情景累计净信用损失均值为期初余额的{mean}；百分之一的路径损失超过{var}。"),
    "read_losses_es": ("Beyond the 99% VaR the average loss (expected shortfall) is {es} (se {se}).",
                       "超过99%风险价值后的平均损失（预期短缺）为{es}（标准误{se}）。"),
    "read_provisions": ("Peak provision need in {scenario}: {peak} on average over paths (as on the cover); "
                        "{rule} sets it at the peak. In {lowest} the median coverage ratio falls to {low}.",
                        "{scenario}情景拨备要求峰值路径均值为{peak}（与封面一致）；峰值时由{rule}决定。"
                        "{lowest}情景拨备覆盖率中位数最低降至{low}。"),
    "read_provisions_coverage": ("Share of paths breaching the coverage floor ({floor}) / the loan-provision floor "
                                 "({loan_floor}), as in the appendix: {breaches}.",
                                 "低于拨备覆盖率底线（{floor}）/贷款拨备率底线（{loan_floor}）的路径比例（与附录一致）：{breaches}。"),
    "rule_ifrs9": ("IFRS 9 ECL", "IFRS 9预期信用损失"),
    "rule_five_category": ("the five-category minimum", "五级分类最低要求"),
    "read_liquidity_breach": ("Cash reaches its floor on {share} of paths in {scenario}, "
                              "in month {month} on average over those paths; lending stops on {stopped} of paths "
                              "and the lender fails on {failed} (se {failed_se}).",
                              "{scenario}情景下{share}的路径现金降至底线，这些路径平均在第{month}个月；"
                              "{stopped}的路径停止放款，{failed}的路径经营失败（标准误{failed_se}）。"),
    "read_liquidity_safe": ("The liquidity buffer stays positive on every path of {scenario}; "
                            "its median line's lowest point is {low}.",
                            "{scenario}情景所有路径流动性缓冲均为正；中位数曲线最低点为{low}。"),
    "read_liquidity_ratio": ("The liquidity ratio falls below its floor on {share} of paths.",
                             "{share}的路径流动性比例低于监管底线。"),
    "read_actions": ("The actions change the peak 90+ rate by {overdue} points (se {overdue_se}) "
                     "and cumulative loss by {loss} points (se {loss_se}).",
                     "管理措施使逾期90天以上比例峰值变化{overdue}个百分点（标准误{overdue_se}），"
                     "累计损失变化{loss}个百分点（标准误{loss_se}）。"),
    "read_actions_cost": ("They cost {cost} and change cumulative profit by {profit}.",
                          "措施成本为{cost}，累计利润变化{profit}。"),
    "read_differences": ("Differences to {reference} on common random numbers, with their Monte Carlo standard errors.",
                         "基于共同随机数的相对{reference}的差异及其蒙特卡洛标准误。"),
    "read_differences_worst": ("{scenario} adds {loss} points of cumulative loss (se {se}).",
                               "{scenario}情景累计损失增加{loss}个百分点（标准误{se}）。"),
    # calibration figures
    "observed": ("observed", "实际"),
    "fitted": ("model at the fitted cycle index", "模型（拟合周期指数）"),
    "move_current_to_1_30": ("current -> 1-30", "正常 -> 逾期1-30天"),
    "move_cure_1_30": ("1-30 -> current (cure)", "逾期1-30天 -> 正常（回收）"),
    "move_roll_1_30_to_31_60": ("1-30 -> 31-60", "逾期1-30天 -> 31-60天"),
    "move_roll_31_60_to_61_90": ("31-60 -> 61-90", "逾期31-60天 -> 61-90天"),
    "monthly_rate": ("share of loans in the state", "占该状态贷款比例"),
    "roll_rates_title": ("Monthly roll rates, observed and at the fitted credit-cycle index (rho = {rho})",
                         "月度滚动率：实际与拟合信用周期指数下的模型值（rho = {rho}）"),
    "backtest_title": ("90+ share back-test: mean error {in_sample} pp in sample, {held_out} pp on the last {months} "
                       "months held out", "逾期90天以上占比回测：样本内平均误差{in_sample}个百分点，"
                       "最后{months}个月样本外{held_out}个百分点"),
    "backtest_axis": ("90+ DPD, share of live loans", "逾期90天以上占在贷笔数比例"),
    "roll_rate_projection": ("roll-rate model (estimated before the hold-out)", "滚动率模型（样本外期之前估计）"),
    "structural_simulation": ("structural model (fitted)", "结构模型（拟合）"),
    "held_out": ("held out", "样本外"),
    "cycle_title": ("Credit-cycle index: {k} sd per pp of unemployment (R² {r2})",
                    "信用周期指数：失业率每上升1个百分点变化{k}个标准差（R² {r2}）"),
    "cycle_axis": ("cycle index z (positive = worse)", "周期指数z（正值=恶化）"),
    "cycle_band": ("z ± 2 se", "z ± 2倍标准误"),
    "satellite_line": ("satellite model on unemployment", "基于失业率的卫星模型"),
    # the calibration report
    "calibration_title": ("Calibration of {source}", "{source}的校准"),
    "calibration_data": ("history", "历史数据"),
    "backtest_row": ("90+ back-test error, in sample / held out", "逾期90天以上回测误差（样本内/样本外）"),
    "not_identified": ("not identified by these moments", "无法由这些矩识别"),
    "matrix_title": ("Roll rates, segment {segment}: count-weighted, {level} bootstrap interval",
                     "滚动率（{segment}分部）：按笔数计，{level}自助法区间"),
    "moments_title": ("Structural fit: moments observed and fitted (objective {objective})",
                      "结构模型拟合：实际与拟合矩（目标函数{objective}）"),
    "figure_roll_rates": ("Roll rates over time", "滚动率走势"),
    "figure_cycle": ("Credit-cycle index and satellite model", "信用周期指数与卫星模型"),
    "figure_backtest": ("Back-test of the 90+ share", "逾期90天以上占比回测"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "difference": ("difference", "差异"),
    "se": ("se", "标准误"),
    "se_independent": ("se with independent draws", "独立抽样标准误"),
    "variance_reduction": ("variance reduction", "方差缩减倍数"),
    # sensitivities (tornado charts and their board-pack pages)
    "tornado_title": ("{metric} moves most with {parameter}: {down} at {minus}, {up} at {plus}",
                      "{metric}对{parameter}最敏感：{minus}时变化{down}，{plus}时变化{up}"),
    "tornado_subtitle": ("change against the base run on common random numbers ({paths} paths); "
                         "error bars ±1.96 standard errors",
                         "相对基准运行的变化（共同随机数，{paths}条路径）；误差线为±1.96倍标准误"),
    "tornado_axis": ("change in {metric}{unit}", "{metric}变化{unit}"),
    "unit_points": (", percentage points", "（百分点）"),
    "unit_money": (", {currency}", "（{currency}）"),
    "unit_months": (", months", "（月）"),
    "step_bar": ("{step} (x{factor})", "{step}（x{factor}）"),
    "theme_sensitivity": ("Sensitivities: {metric}", "敏感性分析：{metric}"),
    "read_sensitivity": ("{parameter} moves {metric} most: {down} (se {down_se}) at {minus}, "
                         "{up} (se {up_se}) at {plus}.",
                         "{metric}受{parameter}影响最大：{minus}时变化{down}（标准误{down_se}），"
                         "{plus}时变化{up}（标准误{up_se}）。"),
    "read_sensitivity_next": ("Next come {others}. Elasticity of the largest at {plus}: {elasticity} (se {se}).",
                              "其次为{others}；最大影响项在{plus}时的弹性为{elasticity}（标准误{se}）。"),
    "read_sensitivity_skipped": ("Not moved (not in this scenario): {skipped}.", "未调整（本情景不适用）：{skipped}。"),
    # back-tests: the figure and the back-test pack
    "bt_rate_30p": ("30+ DPD rate", "逾期30天以上比率"),
    "bt_rate_90p": ("90+ DPD rate", "逾期90天以上比率"),
    "bt_rate_chargeoff": ("charge-off rate", "核销率"),
    "bt_unemployment": ("unemployment (right axis)", "失业率（右轴）"),
    "bt_unemployment_axis": ("unemployment rate, %", "失业率（%）"),
    "bt_observed": ("observed (peak {peak}x in {period})", "实际（{period}峰值{peak}倍）"),
    "bt_model": ("model: {scenario} (peak {peak}x in {period})", "模型：{scenario}（{period}峰值{peak}倍）"),
    "bt_axis": ("{rate} / its value in {period}", "{rate}相对{period}的倍数"),
    "bt_in_step": ("in step", "与实际同步时"),
    "bt_late": ("{n} periods late", "滞后{n}期时"),
    "bt_late_one": ("1 period late", "滞后1期时"),
    "bt_early": ("{n} periods early", "提前{n}期时"),
    "bt_early_one": ("1 period early", "提前1期时"),
    "bt_title": ("Back-test, {start}-{end}: mean absolute ratio error {error}; the model is closest {timing}",
                 "回测{start}至{end}：倍数平均绝对误差{error}；模型{timing}最接近实际"),
    "bt_footnote": ("{observed} against the model's {rate}; unemployment {macro}; cycle off; seed {seed}, "
                    "{paths} paths, {loans} loans; {date}",
                    "{observed}对比模型{rate}；失业率{macro}；信用周期关闭；随机种子{seed}，{paths}条路径，{loans}笔贷款；{date}"),
    "bt_report_title": ("Back-test against history", "历史回测"),
    "bt_report_subtitle": ("Board pack: {scenarios}", "董事会报告：{scenarios}"),
    "bt_report_prepared": ("Prepared {date} with consumer-credit-stress {version}; the scenario's book run through "
                           "the unemployment that happened, the credit cycle off.",
                           "{date}由consumer-credit-stress {version}生成；情景贷款组合按历史失业率运行，信用周期关闭。"),
    "bt_key_figures": ("Key figures (ratios to the first observed period; model: mean over paths)",
                       "主要指标（相对首个观测期的倍数；模型取路径均值）"),
    "bt_figure": ("figure", "指标"),
    "bt_observed_column": ("observed", "实际"),
    "bt_model_column": ("model", "模型"),
    "bt_window": ("window", "回测区间"),
    "bt_rate": ("rate compared", "比较指标"),
    "bt_size": ("paths x loans", "路径数×贷款笔数"),
    "bt_seed": ("seed", "随机种子"),
    "bt_observed_peak": ("observed peak ratio (period)", "实际峰值倍数（时期）"),
    "bt_model_peak": ("model peak ratio (period)", "模型峰值倍数（时期）"),
    "bt_observed_end": ("observed ratio at the end", "实际期末倍数"),
    "bt_model_end": ("model ratio at the end", "模型期末倍数"),
    "bt_peak_ratio": ("peak ratio", "峰值倍数"),
    "bt_peak_period": ("peak period", "峰值时期"),
    "bt_end_ratio": ("ratio in {period}", "{period}倍数"),
    "bt_start_level": ("level in {period}, %", "{period}水平（%）"),
    "bt_error": ("mean absolute ratio error", "倍数平均绝对误差"),
    "bt_best_lag": ("lag of least error (periods; + model late)", "误差最小的滞后期（+为模型滞后）"),
    "bt_error_at_best_lag": ("error at that lag", "该滞后期的误差"),
    "bt_acceptance": ("acceptance", "验收标准"),
    "bt_acceptance_none": ("none given", "未设定"),
    "bt_acceptance_summary": ("{passed} of {n} criteria pass", "{n}项中{passed}项通过"),
    "bt_criterion": ("criterion", "验收标准"),
    "bt_value": ("value", "数值"),
    "bt_limit": ("limit", "限值"),
    "bt_result": ("result", "结果"),
    "bt_pass": ("pass", "通过"),
    "bt_fail": ("FAIL", "未通过"),
    "bt_criterion_peak_ratio": ("peak ratio: |model - observed|", "峰值倍数：|模型-实际|"),
    "bt_criterion_peak_timing": ("peak period: |model - observed|, periods", "峰值时期：|模型-实际|（期）"),
    "bt_criterion_ratio": ("model ratio in {period}, at most", "模型{period}倍数上限"),
    "bt_page_title": ("Back-test: {scenario} against {observed}", "回测：{scenario}对比{observed}"),
    "bt_read_shape": ("The observed {rate} peaks at {observed_peak}x its {start} level in {observed_period} and ends "
                      "at {observed_end}x in {end}; the model peaks at {model_peak}x in {model_period} ({timing}) and "
                      "ends at {model_end}x.",
                      "实际{rate}于{observed_period}达到{start}水平的{observed_peak}倍峰值，{end}为{observed_end}倍；"
                      "模型于{model_period}达到{model_peak}倍峰值（{timing}），期末为{model_end}倍。"),
    "bt_peak_same": ("the same period", "与实际同期"),
    "bt_peak_later": ("{n} periods later", "晚{n}期"),
    "bt_peak_earlier": ("{n} periods earlier", "早{n}期"),
    "bt_read_error": ("The ratios differ by {error} on average; the difference is least ({best}) with the model "
                      "{timing}.{acceptance}",
                      "两条倍数曲线平均相差{error}；模型{timing}差异最小（{best}）。{acceptance}"),
    "bt_read_acceptance": (" Acceptance: {passed} of {n} criteria pass.", "验收标准：{n}项中{passed}项通过。"),
    "bt_does_not_show": ("What it does not show: it is one country, one product and aggregate series (the observed "
                         "rate is an industry's, not this book's). Ratios to the first period test the shape (height, "
                         "timing, return), not the level; a good fit on this history does not show that the mechanisms "
                         "hold for another economy or another product.",
                         "本回测未能说明的：仅一个国家、一种产品和汇总序列（实际比率为全行业数据，并非本组合）。相对首期的倍数检验的是形态"
                         "（高度、时点、回落），而非水平；在这段历史上拟合良好，不代表其机制适用于其他经济体或其他产品。"),
    "bt_appendix_series": ("Appendix: the aligned series, {scenario}", "附录：对齐后的序列（{scenario}）"),
    "bt_period": ("period", "时期"),
    "bt_observed_pct": ("observed, %", "实际（%）"),
    "bt_model_pct": ("model, %", "模型（%）"),
    "bt_observed_ratio": ("observed ratio", "实际倍数"),
    "bt_model_ratio": ("model ratio", "模型倍数"),
    "bt_unemployment_pct": ("unemployment, %", "失业率（%）"),
    "bt_series_note_stock": ("Ratios divide each series by its first observation; the model's value is its level in "
                             "the period's last month (a period-end stock).",
                             "倍数为各序列除以其首个观测值；模型取各期最后一个月的水平（期末存量）。"),
    "bt_series_note_flow": ("Ratios divide each series by its first observation; the model's value is the mean of "
                            "the period's months (a flow).",
                            "倍数为各序列除以其首个观测值；模型取各期各月均值（流量）。"),
}
"""Message id -> (English, Chinese) template; fields in braces are filled by :func:`text`."""

PARAMETER_LABELS = {
    "behaviour.structural.job_finding_pct": ("job-finding rate", "再就业率"),
    "behaviour.structural.replacement_rate_pct": ("income replacement when unemployed", "失业收入替代率"),
    "behaviour.structural.savings_target_months": ("savings target", "储蓄目标"),
    "behaviour.structural.willingness": ("willingness to pay (odds)", "还款意愿（几率）"),
    "behaviour.structural.payment_friction_pct": ("payment friction", "还款摩擦"),
    "behaviour.recovery.rate_pct": ("recovery rate", "回收率"),
    "macro.cycle.volatility": ("credit-cycle volatility", "信用周期波动率"),
    "macro.shocks.unemployment": ("unemployment shock size", "失业率冲击幅度"),
    "funding.liabilities.rollover_pct": ("funding rollover rate", "融资续借率"),
    "behaviour.structural.transitory_income_sd_pct": ("transitory income volatility", "暂时性收入波动"),
    "behaviour.structural.strategic_default_pct": ("strategic default rate", "策略性违约率"),
    "behaviour.prepayment_pct": ("prepayment rate", "提前还款率"),
    "behaviour.roll_rate.asset_correlation_pct": ("asset correlation", "资产相关性"),
    "behaviour.roll_rate.cycle_per_unemployment_pp": ("cycle shift per pp of unemployment", "失业率对周期的影响"),
    "macro.cycle.unemployment_loading_pp": ("unemployment loading of the cycle", "周期的失业率载荷"),
    "macro.shocks.income_growth": ("income-growth shock size", "收入增长冲击幅度"),
    "macro.baseline.unemployment_pct": ("baseline unemployment rate", "基准失业率"),
    "funding.liquidity_buffer_pct": ("liquidity buffer", "流动性缓冲"),
    "funding.operating_cost_pct": ("operating cost", "运营成本"),
}
"""Sensitivity parameter key -> (English, Chinese) label."""

NAME_LABELS = {
    "baseline": ("baseline", "基准"), "adverse": ("adverse", "不利"), "severe": ("severe", "严重"),
    "severe_with_actions": ("severe with actions", "严重（含管理措施）"), "covid_shock": ("COVID shock", "新冠冲击"),
    "collections": ("collections", "催收措施"), "restructuring": ("restructuring", "贷款重组"),
    "underwriting": ("underwriting", "审批收紧"), "high_risk_lending": ("high-risk lending", "高风险放贷"),
    "tape_example": ("loan tape", "贷款明细"), "roll_rate_example": ("roll-rate model", "迁徙率模型"),
    "us_card_2007": ("US cards 2007", "美国信用卡2007"),
    "fed_2025_severely_adverse": ("Fed 2025 severely adverse", "美联储2025严重不利"),
    "ifrs9_weighted": ("IFRS 9 weighted", "IFRS 9加权"),
    "prime": ("prime", "优质"), "near_prime": ("near-prime", "次优"), "subprime": ("subprime", "次级"),
}
"""Scenario and segment names of the shipped scenarios -> (English, Chinese) display name (:func:`shown_name`)."""

_AT_SEVERITY = re.compile(r"(?P<base>.+?)(?:_with_(?P<donor>.+)_shocks)?_at_(?P<value>m?\d[\dpe+m]*)$")


def shown_name(name, lang="en"):
    """A scenario's or segment's name as a reader sees it: the shipped names translated (:data:`NAME_LABELS`), a
    reverse stress run's ``baseline_with_severe_shocks_at_0p4062`` as "baseline with severe's shocks x 0.4062",
    any other name with spaces for underscores."""
    labels = NAME_LABELS.get(name)
    if labels:
        return labels[_column(lang)]
    match = _AT_SEVERITY.fullmatch(name)
    if match:
        value = match["value"].replace("p", ".").replace("m", "-")
        base = shown_name(match["base"], lang)
        if match["donor"]:
            return text("name_with_shocks_at", lang, base=base, donor=shown_name(match["donor"], lang), value=value)
        return text("name_at", lang, base=base, value=value)
    return name.replace("_", " ")


def _column(lang):
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}; got {lang!r}")
    return LANGUAGES.index(lang)


def text(key, lang="en", **fields):
    """The label ``key`` in ``lang`` with ``fields`` filled in."""
    return TEXTS[key][_column(lang)].format(**fields)


def metric_label(name, lang="en"):
    """Display name of a metric (:data:`simulator.accounts.names.READABLE_NAMES`, shared with the Excel
    workbooks); its own name (underscores as spaces) if it has none."""
    return metric_name(name, LANGUAGES[_column(lang)])


def parameter_label(key, lang="en"):
    """Display name of a sensitivity parameter; its key if it has no label."""
    labels = PARAMETER_LABELS.get(key)
    return labels[_column(lang)] if labels else key
