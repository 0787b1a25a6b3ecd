"""English / 简体中文: every text the dashboard shows, and number formatting with units.

The language is a cookie (``ecc_lang``) set by the switch in the shell, so layouts and
callbacks read it from the request they run in; nothing is passed around.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

LANGS = ("en", "zh")
COOKIE = "ecc_lang"
DASH = "—"

TEXT: dict[str, tuple[str, str]] = {
    # shell
    "app_title": ("Energy-carbon management center", "数字化能碳管理中心"),
    "nav_wall": ("Wall", "大屏"),
    "nav_engineer": ("Engineer", "运行工程师"),
    "nav_manager": ("Manager", "管理驾驶舱"),
    "nav_sites": ("Sites & meters", "站点与计量"),
    "nav_zero_carbon": ("Zero carbon", "零碳工厂"),
    "nav_benchmarking": ("Benchmarking", "能效对标"),
    "language": ("中文", "English"),
    "not_available": ("not available", "暂不可用"),
    "reconnecting": ("API unreachable — reconnecting…", "接口连接中断 — 正在重连…"),
    "forbidden": ("not permitted for your role or site", "您的角色或站点无此权限"),
    "no_site": ("no site configured yet", "尚未配置站点"),
    # benchmarking page
    "bm_title": (
        "Benchmarking, energy balance and recommendations",
        "能效对标、能量平衡与节能建议",
    ),
    "bm_start": ("From", "开始"),
    "bm_end": ("To", "结束"),
    "bm_ratings": ("Process ratings", "工序能效对标"),
    "bm_balance": ("Energy balance", "能量平衡表"),
    "bm_recs": ("Recommendations", "节能建议"),
    "bm_process": ("Process", "工序"),
    "bm_output": ("Output", "产量"),
    "bm_unit_consumption": ("Unit consumption", "单位产品能耗"),
    "bm_levels": ("Levels 1 / 2 / 3", "1 / 2 / 3 级"),
    "bm_benchmark": ("标杆 / 基准", "标杆 / 基准"),
    "bm_rating": ("Rating", "等级"),
    "bm_rank": ("Rank", "排名"),
    "bm_source": ("Level source", "限额来源"),
    "bm_single_source": ("single source — check before use", "单一来源 — 使用前请核实"),
    "bm_level_1": ("level 1", "1级"),
    "bm_level_2": ("level 2", "2级"),
    "bm_level_3": ("level 3", "3级"),
    "bm_above_level_3": ("above level 3", "超过3级限额"),
    "bm_no_levels": ("no levels", "无限额"),
    "bm_item": ("Item", "项目"),
    "bm_value": ("Value", "数值"),
    "bm_purchased": ("Purchased", "外购"),
    "bm_generated": ("Generated on site", "自发"),
    "bm_stored": ("Stored", "储能"),
    "bm_export": ("Exported", "上网"),
    "bm_consumption": ("Consumption", "消费量"),
    "bm_end_uses": ("Metered end uses", "计量终端用能"),
    "bm_metered_losses": ("Metered losses", "计量损耗"),
    "bm_unmetered": ("Unmetered remainder", "未计量差额"),
    "bm_metered_share": ("Metered share", "计量覆盖率"),
    "bm_closes": ("Balance closes", "平衡闭合"),
    "bm_kind": ("Kind", "类型"),
    "bm_title_col": ("Action", "建议措施"),
    "bm_kwh": ("kWh / yr", "年节电 kWh"),
    "bm_cny": ("CNY / yr", "年节约 元"),
    "bm_tco2": ("tCO₂ / yr", "年减排 tCO₂"),
    "bm_confidence": ("Confidence", "置信度"),
    "bm_rec_status": ("Status", "状态"),
    "bm_apply": ("Set status", "更新状态"),
    "bm_reason": ("reason (required to dismiss)", "原因（驳回时必填）"),
    "bm_no_processes": ("no process configured for this site", "该站点尚未配置工序"),
    "bm_no_recs": ("no recommendations yet", "暂无节能建议"),
    "bm_xlsx": ("XLSX", "导出 XLSX"),
    "bm_trend": (
        "Daily unit consumption and the best-10 %-days target",
        "日单位产品能耗与最佳10%日目标",
    ),
    "bm_target": ("target", "目标"),
    "bm_pick_process": ("pick a process", "请选择工序"),
    "bm_kind_base_load": ("base load", "基础负荷"),
    "bm_kind_load_shift": ("load shifting", "移峰填谷"),
    "bm_kind_power_factor": ("power factor", "功率因数"),
    "bm_kind_contracted_demand": ("contracted demand", "合同需量"),
    "bm_kind_compressed_air_leakage": ("compressed-air leakage", "压缩空气泄漏"),
    "bm_kind_transformer_economic_load": ("transformer load", "变压器经济运行"),
    "bm_kind_equipment_grade": ("equipment grade", "设备能效等级"),
    "bm_status_open": ("open", "待处理"),
    "bm_status_accepted": ("accepted", "已采纳"),
    "bm_status_done": ("done", "已完成"),
    "bm_status_dismissed": ("dismissed", "已驳回"),
    "bm_conf_high": ("high", "高"),
    "bm_conf_medium": ("medium", "中"),
    "bm_conf_low": ("low", "低"),
    # zero-carbon page
    "zc_title": ("Zero-carbon factory", "零碳工厂"),
    "zc_year": ("Year", "年份"),
    "zc_scorecard": ("Scorecard", "零碳指标"),
    "zc_net": ("Net emissions", "净排放"),
    "zc_ledger": ("Carbon-asset ledger", "碳资产台账"),
    "zc_indicator": ("Indicator", "指标"),
    "zc_value": ("Value", "数值"),
    "zc_threshold": ("Threshold", "阈值"),
    "zc_status": ("Status", "状态"),
    "zc_source": ("Threshold source", "阈值来源"),
    "zc_met": ("met", "达标"),
    "zc_not_met": ("not met", "未达标"),
    "zc_not_measured": ("not measured", "未计量"),
    "zc_no_threshold": ("no threshold", "无阈值"),
    "zc_gross": ("Gross", "总排放"),
    "zc_reductions": ("Own reductions", "自主减排"),
    "zc_residual": ("Residual", "剩余排放"),
    "zc_offsets": ("Offsets", "碳抵消"),
    "zc_net_short": ("Net", "净排放"),
    "zc_kind": ("Kind", "类型"),
    "zc_serial": ("Serial", "编号"),
    "zc_quantity": ("Quantity", "数量"),
    "zc_available": ("Available", "可用"),
    "zc_vintage": ("Vintage", "年份/月份"),
    "zc_asset_status": ("Status", "状态"),
    "zc_report_pdf": ("Disclosure (PDF)", "信息披露报告（PDF）"),
    "zc_report_xlsx": ("Disclosure (XLSX)", "信息披露报告（XLSX）"),
    "zc_package": ("Verifier's package (ZIP)", "核查数据包（ZIP）"),
    "zc_no_assets": ("no carbon assets recorded", "暂无碳资产记录"),
    "zc_pick_site": ("pick a site", "请选择站点"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出登录"),
    "login_name": ("Login", "用户名"),
    "password": ("Password", "密码"),
    "sign_in_failed": ("wrong login or password", "用户名或密码错误"),
    "sign_in_locked": ("too many failed attempts — wait a while", "失败次数过多，请稍后再试"),
    "signed_in_as": ("Signed in: {name}", "当前用户：{name}"),
    "sign_in_to_act": ("sign in to do this", "请先登录"),
    "nav_audit": ("Audit trail", "审计记录"),
    "nav_people": ("People", "用户管理"),
    "audit_title": ("Audit trail — every change, who, when", "审计记录 — 每一次变更、操作人与时间"),
    "audit_entity": ("Entity", "对象"),
    "audit_since": ("Since", "起始时间"),
    "audit_when": ("When (UTC)", "时间 (UTC)"),
    "audit_who": ("Who", "操作人"),
    "audit_what": ("What", "操作"),
    "audit_change": ("Before → after", "变更前 → 变更后"),
    "people_title": ("People", "用户管理"),
    "people_create": ("Create person", "新建用户"),
    "people_roles": ("Roles", "角色"),
    "people_site": ("Site (optional)", "站点（可选）"),
    "people_name": ("Display name", "显示名称"),
    "people_disable": ("Disable", "停用"),
    "people_enable": ("Enable", "启用"),
    "people_enabled": ("enabled", "启用"),
    "people_disabled": ("disabled", "已停用"),
    # wall
    "wall_title": ("Energy & carbon — live", "能碳实时监控"),
    "load_now": ("Site load now", "当前负荷"),
    "of_contract": ("of {v} contracted", "合同需量 {v}"),
    "contract_unknown": ("contracted demand not set", "未设置合同需量"),
    "energy_today": ("Energy today", "今日能耗"),
    "electricity_of_which": ("Electricity {v}", "其中电力 {v}"),
    "co2_today": ("CO₂ today", "今日碳排放"),
    "carbon_intensity": ("Carbon intensity", "碳排放强度"),
    "renewable_share": ("Renewable share", "可再生能源占比"),
    "green_share": ("Green-power share", "绿电占比"),
    "cost_today": ("Cost today", "今日电费"),
    "cost_avg": ("{kwh} kWh · {avg} CNY/kWh", "{kwh} kWh · 均价 {avg} 元/kWh"),
    "no_tariff": ("no tariff assigned", "未配置电价"),
    "budget_month": ("Month budget", "本月预算"),
    "budget_used": ("% used", "% 已用"),
    "budget_projected": ("projected {v} %", "预计 {v} %"),
    "no_budget": ("no budget this year", "本年未设预算"),
    # budgets page
    "nav_budgets": ("Budgets", "预算"),
    "bud_title": ("Energy, carbon and cost budgets", "用能、碳排放与费用预算"),
    "bud_month": ("Month", "月份"),
    "bud_burn": ("Cumulative against the budget", "累计用量与预算"),
    "bud_table": ("Sites and workshops", "工厂与车间"),
    "bud_budget": ("Budget", "预算"),
    "bud_actual": ("Actual", "实际"),
    "bud_projected": ("Projected", "预计"),
    "bud_pct": ("Projected %", "预计占比"),
    "bud_crossing": ("Crosses on", "预计超出日"),
    "bud_none": ("no budget for this site, quantity and year", "该站点本年无此预算"),
    "electricity_kwh_q": ("Electricity (kWh)", "电量 (kWh)"),
    "energy_tce_q": ("Energy (tce)", "能耗 (tce)"),
    "co2_t_q": ("CO₂ (t)", "碳排放 (t)"),
    "cost_cny_q": ("Cost (CNY)", "费用 (元)"),
    "no_production": ("no production data today", "今日无产量数据"),
    "vs_15min": ("vs 15 min ago", "较15分钟前"),
    "vs_yesterday": ("vs yesterday", "较昨日同期"),
    "vs_prev_day": ("vs yesterday", "较昨日"),
    "energy_flow": ("Energy flow today", "今日能流图"),
    "load_24h": ("Load, last 24 h", "近24小时负荷"),
    "load": ("Load", "负荷"),
    "pv": ("PV", "光伏"),
    "forecast": ("Forecast", "预测"),
    "forecast_band": ("Forecast interval", "预测区间"),
    "contracted": ("Contracted demand", "合同需量"),
    "forecast_na": ("forecast not available", "预测暂不可用"),
    "forecast_next": (
        "and the next 24 h forecast with its 90 % band",
        "及未来24小时预测（90%区间）",
    ),
    "alarms_na": ("alarms not available", "报警暂不可用"),
    "no_alarms": ("No active alarms", "无活动报警"),
    "alarms_more": ("+{n} more", "另有 {n} 条"),
    "last_reading": ("last reading {age} ago", "最新数据 {age} 前"),
    "no_reading": ("no readings", "无数据"),
    "view_overview": ("Overview", "总览"),
    "view_flow": ("Energy flow", "能流"),
    "view_load": ("Load", "负荷"),
    "sankey_tce": ("all carriers in tce", "各能源折标准煤 tce"),
    "sankey_kwh": (
        "electricity only, kWh (tce conversion not available)",
        "仅电力 kWh（折标煤暂不可用）",
    ),
    # energy flow nodes
    "src_grid": ("Grid", "电网"),
    "src_pv": ("PV", "光伏"),
    "src_natural_gas": ("Natural gas", "天然气"),
    "src_steam": ("Purchased steam", "外购蒸汽"),
    "src_heat": ("Purchased heat", "外购热力"),
    "src_other": ("Other", "其他"),
    "export": ("Export to grid", "上网电量"),
    "losses": ("Unmetered & losses", "未计量及损耗"),
    "common": ("Plant common", "厂区公用"),
    # engineer
    "eng_title": ("Engineer's console", "运行工程师控制台"),
    "alarms": ("Alarms", "报警"),
    "ack": ("Acknowledge", "确认"),
    "shelve": ("Shelve", "搁置"),
    "unshelve": ("Unshelve", "取消搁置"),
    "comment": ("Comment", "备注"),
    "add_comment": ("Add comment", "添加备注"),
    "out_of_service": ("Out of service", "停用"),
    "return_to_service": ("Return to service", "恢复投用"),
    "shelve_for": ("Shelve for", "搁置时长"),
    "state": ("State", "状态"),
    "state_active": ("Active", "活动"),
    "state_unacknowledged": ("Unacknowledged", "未确认"),
    "state_shelved": ("Shelved", "已搁置"),
    "state_all": ("All", "全部"),
    "select_alarm": ("select an alarm first", "请先选择报警"),
    "done": ("done", "已完成"),
    "rules": ("Alarm rules", "报警规则"),
    "rule_name": ("Name", "名称"),
    "rule_type": ("Type", "类型"),
    "priority": ("Priority", "优先级"),
    "message": ("Message", "消息"),
    "create_rule": ("Create rule", "创建规则"),
    "rule_created": ("rule created", "规则已创建"),
    "state_out_of_service": ("Out of service", "停用"),
    "state_history": ("History", "历史"),
    "hist_range": ("Days", "日期"),
    "no_events": ("No alarm events in this range", "该时段无报警记录"),
    "no_parent_rule": ("none (never suppressed)", "无（不抑制）"),
    # a rule's weekly windows (schedule, idle periods): weekdays ticked, from and to HH:MM
    "wd_0": ("Mon", "周一"),
    "wd_1": ("Tue", "周二"),
    "wd_2": ("Wed", "周三"),
    "wd_3": ("Thu", "周四"),
    "wd_4": ("Fri", "周五"),
    "wd_5": ("Sat", "周六"),
    "wd_6": ("Sun", "周日"),
    "win_from": ("from", "从"),
    "win_to": ("to", "至"),
    "win_n": ("window {n}", "第 {n} 个时段"),
    "win_start": ("start", "开始时间"),
    "win_end": ("end", "结束时间"),
    "win_wrong": ("{field}, window {n}: {why}", "{field}第 {n} 个时段：{why}"),
    "win_wrong_part": ("{field}, window {n}, {part}: {why}", "{field}第 {n} 个时段的{part}：{why}"),
    "win_no_days": ("tick at least one weekday", "请至少勾选一天"),
    "win_bad_time": (
        "expected a time HH:MM from 00:00 to 24:00, e.g. 08:00 (got “{got}”)",
        "应为 00:00 至 24:00 之间的 HH:MM 时间，如 08:00（输入为“{got}”）",
    ),
    "hist_capped": (
        "Newest {shown} of more than {shown} events shown — narrow the range",
        "仅显示最新 {shown} 条（共超过 {shown} 条报警记录）— 请缩小时间范围",
    ),
    "no_alarms_in": ("No alarms in this view", "此视图无报警"),
    "as_normal": ("Normal", "正常"),
    "as_active_unacknowledged": ("Active, unacknowledged", "活动 · 未确认"),
    "as_active_acknowledged": ("Active, acknowledged", "活动 · 已确认"),
    "as_returned_unacknowledged": ("Returned, unacknowledged", "已恢复 · 未确认"),
    "as_shelved": ("Shelved", "已搁置"),
    "as_suppressed": ("Suppressed", "已抑制"),
    "as_out_of_service": ("Out of service", "停用"),
    "ap_critical": ("Critical", "紧急"),
    "ap_high": ("High", "高"),
    "ap_medium": ("Medium", "中"),
    "ap_low": ("Low", "低"),
    "aa_activate": ("Raised", "报警"),
    "aa_clear": ("Returned to normal", "恢复正常"),
    "aa_ack": ("Acknowledged", "已确认"),
    "aa_shelve": ("Shelved", "搁置"),
    "aa_unshelve": ("Unshelved", "取消搁置"),
    "aa_shelve_expired": ("Shelving expired", "搁置到期"),
    "aa_remove_from_service": ("Taken out of service", "停用"),
    "aa_return_to_service": ("Returned to service", "恢复投用"),
    "aa_suppress": ("Suppressed by design", "设计抑制"),
    "aa_unsuppress": ("Suppression ended", "抑制解除"),
    "aa_reset": ("Reset (rule changed)", "复位（规则变更）"),
    "aa_comment": ("Comment", "备注"),
    "cond_high": ("high", "高限"),
    "cond_high_high": ("high-high", "高高限"),
    "cond_low": ("low", "低限"),
    "cond_low_low": ("low-low", "低低限"),
    "cond_stale": ("no data", "数据中断"),
    "shelved_left": ("Shelved, {left} left", "已搁置，剩余 {left}"),
    "alarm_detail": ("Alarm detail", "报警详情"),
    "pick_alarm_detail": (
        "Select an alarm to see its history and comments",
        "选择一条报警以查看其历史与备注",
    ),
    "col_time": ("Time", "时间"),
    "col_action": ("Event", "事件"),
    "col_change": ("State change", "状态变化"),
    "col_person": ("Person", "人员"),
    "col_comment": ("Comment", "备注"),
    "col_value": ("Value", "数值"),
    "col_alarm": ("Alarm", "报警"),
    "col_subject": ("Meter / site", "计量表 / 站点"),
    "col_limits": ("Limits", "限值"),
    "col_enabled": ("Status", "状态"),
    "col_actions": ("", ""),
    "limit": ("limit", "限值"),
    "raised_at_n": ("raised {n} times, last at {at}", "已报警 {n} 次，最近 {at}"),
    "acked_by": ("acknowledged by {who} at {at}", "由 {who} 于 {at} 确认"),
    "rule_enabled": ("enabled", "启用"),
    "rule_disabled": ("disabled", "已停用"),
    "edit": ("Edit", "编辑"),
    "disable": ("Disable", "停用"),
    "enable": ("Enable", "启用"),
    "delete": ("Delete", "删除"),
    "cancel": ("Cancel", "取消"),
    "confirm_delete": (
        "Delete rule “{name}”? Its alarms return to normal; their history is kept.",
        "删除规则“{name}”？其报警将恢复正常，历史记录保留。",
    ),
    "yes_delete": ("Yes, delete", "确认删除"),
    "rule_deleted": ("rule “{name}” deleted", "规则“{name}”已删除"),
    "rule_saved": ("rule saved", "规则已保存"),
    "rule_now_enabled": ("rule “{name}” enabled", "规则“{name}”已启用"),
    "rule_now_disabled": ("rule “{name}” disabled", "规则“{name}”已停用"),
    "editing_rule": ("Editing rule “{name}”", "正在编辑规则“{name}”"),
    "new_rule": ("New rule", "新建规则"),
    "save_rule": ("Save changes", "保存修改"),
    "try_rule": ("Try on last 7 days", "用最近7天数据试算"),
    "try_result": (
        "would have raised {n} alarms in the last 7 days",
        "最近7天将产生 {n} 条报警",
    ),
    "try_at": ("at {times}", "时间：{times}"),
    "try_more": ("and {n} more", "等另外 {n} 次"),
    "try_readings": ("({n} readings)", "（{n} 条读数）"),
    "no_rules": ("No alarm rules yet", "尚无报警规则"),
    "field_json": ("not valid JSON: {error}", "JSON 格式错误：{error}"),
    "required": ("required", "必填"),
    "field_required": ("{field}: required", "{field}：必填"),
    "unit_of_meter": ("meter's unit", "计量表单位"),
    # alarm KPIs
    "nav_alarm_kpis": ("Alarm KPIs", "报警指标"),
    "kpi_title": ("Alarm system performance (ISA-18.2)", "报警系统绩效（ISA-18.2）"),
    "kpi_range": ("Period", "统计周期"),
    "kpi_all_sites": ("All my sites", "我可见的全部站点"),
    "kpi_scope": ("Alarms of {site} and the sites below it", "{site}及其下属站点的报警"),
    "kpi_scope_all": ("Alarms of every site you may see", "您可见的全部站点的报警"),
    "kpi_24h": ("last 24 hours", "最近24小时"),
    "kpi_7d": ("last 7 days", "最近7天"),
    "kpi_30d": ("last 30 days", "最近30天"),
    "kpi_operators": ("Operators on shift", "当班值班人数"),
    "kpi_rate_avg": ("Alarms per operator per 10 min (average)", "每人每10分钟报警数（平均）"),
    "kpi_rate_peak": ("Peak alarms per operator in 10 min", "每人10分钟报警数峰值"),
    "system_user": ("system", "系统"),
    "kpi_flood": ("10-minute periods in flood (>10)", "报警泛滥时段占比（>10）"),
    "kpi_standing": ("Standing alarms", "持续报警"),
    "kpi_stale": ("Standing > 24 h", "持续超过24小时"),
    "kpi_chattering": ("Chattering alarms", "振荡报警"),
    "kpi_activations": ("Alarms raised", "报警总数"),
    "kpi_top10": ("Top 10 most frequent alarms", "最频繁的10条报警"),
    "kpi_share": ("Share", "占比"),
    "kpi_count": ("Count", "次数"),
    "kpi_target": ("target ≤ 1 (EEMUA 191)", "目标 ≤ 1（EEMUA 191）"),
    "kpi_by_priority": ("By priority", "按优先级"),
    "kpi_chatter_n": ("activations within 60 s", "60秒内报警次数"),
    "kpi_none": ("none", "无"),
    # nav groups
    "nav_operate": ("Operate", "运行"),
    "nav_manage": ("Manage", "管理"),
    "nav_admin": ("Admin", "系统"),
    "drilldown": ("Meter drill-down", "计量表钻取"),
    "pick_meter": ("choose a meter", "请选择计量表"),
    "meter": ("Meter", "计量表"),
    "resolution": ("Resolution", "分辨率"),
    "auto": ("auto", "自动"),
    "overlay_raw": ("overlay raw readings", "叠加原始读数"),
    "raw_too_long": ("raw readings only for ranges up to 3 days", "原始读数仅限3天以内"),
    "export_csv": ("Export CSV", "导出 CSV"),
    "period": ("Period", "时段"),
    "from": ("From", "开始"),
    "to": ("To", "结束"),
    "raw": ("raw", "原始"),
    "rollup": ("rolled up", "汇总"),
    "points": ("{n} points", "{n} 个点"),
    # manager
    "mgr_title": ("Energy & carbon performance", "能碳绩效"),
    "day": ("Day", "日"),
    "week": ("Week", "周"),
    "month": ("Month", "月"),
    "year": ("Year", "年"),
    "date": ("Date", "日期"),
    "site": ("Site", "站点"),
    "electricity_kwh": ("Electricity", "电力"),
    "energy_tce": ("Energy", "综合能耗"),
    "co2_t": ("CO₂", "碳排放"),
    "energy_carbon_by": ("Energy and carbon by {p}", "按{p}能耗与碳排放"),
    "kpi_table": ("Key figures", "关键指标"),
    "metric": ("Metric", "指标"),
    "value": ("Value", "数值"),
    "mom": ("MoM", "环比"),
    "compared_line": ("{what}: {cur} vs {prev} ({basis})", "{what}：{cur} 对比 {prev}（{basis}）"),
    "basis_same_elapsed": ("same elapsed time", "相同已过时段"),
    "basis_complete": ("whole periods", "完整周期"),
    "basis_not_started": ("period not begun", "周期未开始"),
    "by_period": ("By period", "按时段"),
    "intensity_no_output": (
        "no production recorded: intensity needs output",
        "未录入产量：强度需产量数据",
    ),
    "yoy": ("YoY", "同比"),
    "intensity_trend": ("Intensity, last 12 months", "近12个月强度趋势"),
    "scopes": ("Scope 1 / scope 2", "范围一 / 范围二"),
    "scope1": ("Scope 1", "范围一"),
    "scope2_location": ("Scope 2 (location)", "范围二（基于位置）"),
    "scope2_market": ("Scope 2 (market)", "范围二（基于市场）"),
    "top_consumers": ("Top consumers (electricity)", "主要用能单元（电力）"),
    "carbon_na": ("carbon accounting not available", "碳核算暂不可用"),
    "energy_intensity": ("Energy intensity", "能耗强度"),
    "total": ("Total", "合计"),
    # meter and sites
    "meter_title": ("Meter {code}", "计量表 {code}"),
    "unknown_meter": ("unknown meter {code}", "未知计量表 {code}"),
    "carrier": ("Carrier", "能源品种"),
    "kind": ("Kind", "类型"),
    "unit_energy": ("{unit} — energy per bucket", "{unit} — 每时段用量"),
    "unit_gauge": ("{unit} — mean per bucket (min–max band)", "{unit} — 每时段平均值（最小–最大）"),
    "unit_reported": ("reported in {unit}", "表计上报单位 {unit}"),
    "in_progress": ("in progress (partial)", "进行中（不完整）"),
    "mean_power": ("mean power", "平均功率"),
    "unit": ("Unit", "单位"),
    "interval": ("Interval", "采集周期"),
    "parent": ("Parent meter", "上级表"),
    "children": ("Sub-meters", "下级表"),
    "last_24h": ("Last 24 h", "近24小时"),
    "last_7d": ("Last 7 days", "近7天"),
    "last_30d": ("Last 30 days", "近30天"),
    "today_total": ("Today", "今日累计"),
    "sites_title": ("Sites & meters", "站点与计量"),
    "meters_n": ("{n} meters", "{n} 块表"),
    "meter_1": ("1 meter", "1 块表"),
    # products and suppliers (footprints)
    "nav_products": ("Products", "产品碳足迹"),
    "prod_title": ("Product carbon footprints (GB/T 24067)", "产品碳足迹（GB/T 24067）"),
    "product": ("Product", "产品"),
    "per_unit": ("per {unit}", "每{unit}"),
    "pcf": ("Cradle-to-gate footprint", "从摇篮到大门碳足迹"),
    "primary_share": ("Primary data share", "初级数据占比"),
    "dq_rating": ("Data quality", "数据质量"),
    "dq_good": ("good", "良好"),
    "dq_fair": ("fair", "一般"),
    "dq_poor": ("poor", "较差"),
    "elec_factor": ("Electricity carbon-footprint factor", "电力碳足迹因子"),
    "fp_version": ("version {v} · BOM v{b}", "版本 {v} · 物料清单 v{b}"),
    "stages": ("By life-cycle stage", "分生命周期阶段"),
    "stage_raw_materials": ("Raw materials", "原材料"),
    "stage_transport": ("Transport", "运输"),
    "stage_energy": ("Energy", "能源"),
    "stage_process": ("Process", "过程排放"),
    "stage_packaging": ("Packaging", "包装"),
    "stage_total": ("Total", "合计"),
    "hotspots_materials": ("Hotspots: materials of this product", "热点：本产品物料"),
    "hotspots_suppliers": ("Hotspots: suppliers (all products)", "热点：供应商（全部产品）"),
    "scope3": ("Scope 3: cat. 1 {c1} · cat. 4 {c4}", "范围三：类别1 {c1} · 类别4 {c4}"),
    "suppliers_title": ("Suppliers and data requests", "供应商与数据请求"),
    "supplier": ("Supplier", "供应商"),
    "req_requested": ("requested", "已请求"),
    "req_received": ("received", "已接收"),
    "req_verified": ("verified", "已核验"),
    "req_expired": ("expired", "已过期"),
    "report_xlsx": ("Report (XLSX)", "报告（XLSX）"),
    "report_pdf": ("Report (PDF)", "报告（PDF）"),
    "no_products": ("no products yet", "尚无产品"),
    "hash": ("derivation", "推导哈希"),
    "nav_suppliers": ("Suppliers", "供应商"),
    "requests": ("Data requests", "数据请求"),
    "factors": ("Factors on file", "因子库"),
    "material": ("Material", "物料"),
    "status": ("Status", "状态"),
    "due": ("Due", "截止日期"),
    "data_type": ("Data type", "数据类型"),
    "source": ("Source", "来源"),
    "dt_primary": ("supplier-specific (primary)", "供应商实景（初级）"),
    "dt_secondary": ("default (secondary)", "默认（次级）"),
    # forecasts page
    "nav_forecasts": ("Forecasts", "预测"),
    "fc_title": ("Forecasts and their accuracy", "负荷预测与预测精度"),
    "fc_site_total": ("site total (electricity)", "站点总量（电）"),
    "fc_day": ("Day ahead", "日前（24小时）"),
    "fc_week": ("7 days", "未来7天"),
    "fc_forecast_24h": (
        "Load forecast, next 24 h, with its 90 % band",
        "未来24小时负荷预测及90 %区间",
    ),
    "fc_forecast_7d": (
        "Load forecast, next 7 days, with its 90 % band",
        "未来7天负荷预测及90 %区间",
    ),
    "fc_band": ("90 % interval", "90 %预测区间"),
    "fc_actual": ("Actual", "实际"),
    "fc_origin": ("forecast from here", "预测起点"),
    "fc_model_title": ("Model in force and its backtest", "当前模型及其回测"),
    "fc_model_in_force": ("Model in force", "当前模型"),
    "fc_trained": ("Trained on", "训练数据"),
    "fc_made": ("Selected", "选定于"),
    "fc_model": ("Model", "模型"),
    "fc_mase": ("MASE", "MASE"),
    "fc_wape": ("WAPE", "WAPE"),
    "fc_mae": ("MAE", "平均绝对误差"),
    "fc_cov": ("90 % coverage", "90 %区间覆盖率"),
    "fc_selected": ("selected", "已选用"),
    "fc_demoted": ("demoted: tracked error drifted", "已降级：跟踪误差漂移"),
    "fc_backtest_note": (
        "Rolling-origin backtest of the nightly selection; MASE against the weekly seasonal "
        "naive (below 1 is better); MAE in {unit}.",
        "每晚模型选择的滚动起点回测；MASE以周季节性朴素预测为基准（小于1更好）；"
        "平均绝对误差单位 {unit}。",
    ),
    "fc_past_title": ("Past forecasts against what happened", "历史预测与实际对比"),
    "fc_past_forecast": ("Forecast then in force", "当时的预测"),
    "fc_error_title": ("Tracked error per day", "每日跟踪误差"),
    "fc_naive_mae": (
        "MAE · seasonal naive, weekly (baseline)",
        "平均绝对误差 · 周季节性朴素（基准）",
    ),
    "fc_coverage": ("90 % band coverage", "90 %区间覆盖率"),
    "fc_coverage_axis": ("coverage", "覆盖率"),
    "fc_days": ("Days", "天数"),
    "fc_ratio": ("vs baseline", "相对基准"),
    "fc_naive": ("Baseline MAE", "基准平均绝对误差"),
    "fc_state": ("Drift rule", "漂移规则"),
    "fc_ok": ("in range", "正常"),
    "fc_rule": (
        "Drift rule: a model whose day-ahead MAE over the last {days} days (at least "
        "{min_days} days in force) exceeds {baseline}'s by more than {margin} % is left out "
        "of the next nightly selection.",
        "漂移规则：若某模型近{days}天（至少使用{min_days}天）的日前平均绝对误差比{baseline}高出"
        "{margin} %以上，下一次每晚模型选择将不再选用它。",
    ),
    "fc_pick": ("pick a site or a meter", "请选择站点或计量表"),
    "fc_none_tracked": ("no tracked forecasts yet for these days", "这些天尚无跟踪的预测"),
    "fc_m_naive_daily": ("Seasonal naive, daily", "季节性朴素（日）"),
    "fc_m_naive_weekly": ("Seasonal naive, weekly", "季节性朴素（周）"),
    "fc_m_hgb": ("Gradient boosting (hgb)", "梯度提升树（hgb）"),
    "fc_m_prophet": ("Prophet", "Prophet"),
    "fc_m_lgbm_global": ("Global gradient boosting (lgbm_global)", "全局梯度提升树（lgbm_global）"),
    "fc_m_combined": (
        "Combined: hgb + lgbm_global (+ linear beyond a day)",
        "组合预测（hgb + lgbm_global，超过一天另加 linear）",
    ),
    "fc_m_linear": ("Linear, last 1–4 weeks (linear)", "线性模型，近 1–4 周（linear）"),
    # wall: net emissions and the field side (site setting of the wall's tiles)
    "net_emissions_year": ("Net emissions this year", "本年净排放"),
    "net_sub": ("gross {gross} · offset {offsets}", "总量 {gross} · 抵消 {offsets}"),
    "offsets_warning": ("see the offset warnings", "抵消存在警示"),
    "devices_offline": ("Devices offline", "离线设备"),
    "devices_unit": ("devices", "台"),
    "device_unit": ("device", "台"),
    "devices_of": ("of {n} field devices", "共 {n} 台采集设备"),
    "no_collectors": ("no field collectors", "无现场采集器"),
    "collection_rate": ("Automatic collection rate", "自动采集率"),
    "collection_sub": ("{r} of {n} points · last 24 h", "{n} 个点中 {r} 个 · 近24小时"),
    "no_points": ("no points configured", "未配置采集点"),
    # sites page: a site's own settings
    "site_settings": ("Site settings", "站点设置"),
    "site_contract": ("Contracted demand (kW)", "合同需量（kW）"),
    "site_contract_v": ("contracted demand {v}", "合同需量 {v}"),
    "site_contract_help": (
        "the contract with the utility: drawn on the site's wall, the limit of its demand alarms",
        "与供电公司约定的最大需量：显示在本站点大屏，并作为需量报警的默认限值",
    ),
    "site_tiles": ("Wall tiles (in order)", "大屏指标卡（按顺序）"),
    "site_tiles_help": (
        "none chosen: the installation's default (ECC_WALL_TILES)",
        "未选择时使用系统默认（ECC_WALL_TILES）",
    ),
    "site_save": ("Save", "保存"),
    "site_saved": ("Saved: {site}", "已保存：{site}"),
    "site_read_only": (
        "Read-only: your role may not change site settings",
        "只读：您的角色无权修改站点设置",
    ),
    "site_pick": ("Site", "站点"),
}

_AGE_UNITS = (("d", "天", 86400), ("h", "小时", 3600), ("min", "分钟", 60), ("s", "秒", 1))


def current() -> str:
    """The language of the request being served (cookie), English outside a request."""
    try:
        import flask

        value = flask.request.cookies.get(COOKIE, "en")
    except RuntimeError:  # no request context (tests, the CLI)
        return "en"
    return value if value in LANGS else "en"


HTML_LANG = {"en": "en", "zh": "zh-CN"}  # <html lang>: fonts, screen readers, CSS :lang(zh)
DATE_FORMAT = "YYYY-MM-DD"  # as the whole app writes dates, in both languages


def date_picker(lang: str | None = None) -> dict[str, Any]:
    """The date pickers' props in the language: the input YYYY-MM-DD in either, the week from
    Monday (as in China), the calendar's month "December" or "12月" (with the year before it
    in 中文, 2026年 12月: the shell's CSS). Month and weekday names come from the date-fns
    locale the page loads in 中文 (dashboard/app.py), English without one."""
    zh = (lang or current()) == "zh"
    return {
        "display_format": DATE_FORMAT,
        "month_format": "YYYY年MMM" if zh else "MMMM YYYY",
        "first_day_of_week": 1,
    }


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    en, zh = TEXT[key]
    text = zh if (lang or current()) == "zh" else en
    return text.format(**fmt) if fmt else text


def digits_for(value: float) -> int:
    """Decimals that keep three to four significant figures on a wall tile."""
    a = abs(value)
    if a >= 100:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2
    return 3


def fmt_num(value: float | None, unit: str = "", digits: int | None = None) -> str:
    """``12,345.6 kWh``: thousands separators, a fixed number of decimals, the unit."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    d = digits_for(value) if digits is None else digits
    text = f"{value:,.{d}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return f"{text} {unit}".rstrip()


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """A share 0..1 as ``12.3 %``."""
    return DASH if share is None else fmt_num(share * 100.0, "%", digits)


def fmt_change(pct: float | None) -> str:
    return DASH if pct is None else f"{pct:+,.1f} %"


def fmt_age(seconds: float, lang: str | None = None) -> str:
    """``3 s``, ``5 min``, ``2 h``: the largest whole unit."""
    zh = (lang or current()) == "zh"
    s = max(0, int(seconds))
    for en, cn, width in _AGE_UNITS:
        if s >= width or width == 1:
            return f"{s // width:,} {cn if zh else en}"
    return ""


def fmt_time(ts: datetime, tz: str, with_date: bool = False) -> str:
    from zoneinfo import ZoneInfo

    local = ts.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M:%S")
