// Chinese and English labels. The demo's own names are bilingual already ("文成蓝天救援队
// (Wencheng Blue Sky Rescue)"): `pickName` shows the half that matches the language.

const WORDS = {
  zh: {
    title: "应急指挥台", token_label: "令牌", login: "登录", logout: "退出", follow: "跟随",
    incidents: "事件", new_incident: "＋ 新事件", feed: "动态", pick_incident: "选择一个事件，或点击地图报告新事件。",
    live: "实时", reconnecting: "重连中", catching_up: "补发中", offline: "离线", caught_up: "已补发 {n} 条",
    level1: "省级", level2: "市级", level3: "县级", level4: "乡镇级",
    severity: "等级", category: "类别", persons: "受困人数", status: "状态", reported: "报告时间", lead: "指挥层级",
    areas: "所属区域", surface: "地表", land: "陆地", sea: "海上", title_f: "标题", coordinates: "坐标",
    suggestions: "调度建议", plan: "推荐方案", assign: "派遣", assigned_ok: "已派遣", assignments: "已派力量",
    sitreps: "现场报告", no_sitreps: "暂无现场报告", add_sitrep: "添加报告", send: "发送", release: "撤回",
    shortfall: "缺口", eta: "预计到达", not_assignable: "非本级管辖：请上级协调",
    report: "报告事件", cancel: "取消", click_map: "点击地图选择位置，或输入坐标。",
    outside: "辖区外", none_open: "暂无进行中的事件", no_fix: "无定位（显示驻地）",
    fresh: "定位新", aging: "定位较旧", stale: "定位过期", last_fix: "最后定位", home: "驻地", units_here: "此处 {n} 个力量", more_units: "另有 {n} 个…", course_vector: "航向航速矢量（{min} 分钟）", course_speed: "航向 {c}° · 航速 {v} 公里/时",
    legend: "图例", dispatched_in: "首派用时 {t}", not_dispatched: "未派遣", taken: "该力量已被占用",
    token_refused: "令牌无效或已过期",
    chat: "指挥对话", say: "发送消息…", no_messages: "暂无消息",
    directives: "指令", direct: "下达指令", no_directives: "暂无待办指令", issue: "下达", deadline: "签收时限",
    directive_text: "指令内容…", to_centre: "下级指挥中心", to_units: "力量编号", about: "关于事件",
    directive_incomplete: "请填写指令内容并选择接收方", withdraw: "撤销", unable_reason: "无法执行的原因：",
    st_open: "执行中", st_overdue: "超时未签收", st_closed: "已结束", overdue_alert: "指令超时未签收", new_directive: "收到上级指令",
    ais_traffic: "AIS 船舶动态", scene: "现场影像", caption: "说明…", upload: "上传", voice_note: "语音", clip: "视频", no_media: "暂无现场影像",
    ans_issued: "已下达", ans_received: "已收到", ans_accepted: "已接受", ans_unable: "无法执行", ans_done: "已完成",
    level_province: "省级", level_city: "市级", level_county: "县级", level_township: "乡镇级",
    aar: "评估报告", exercise: "演练", replay: "回放", play: "播放", pause: "暂停", speed: "速度", fastest: "最快", timeline: "时间轴", fork: "推演分支",
    forked: "已从此刻开始推演：{id}", replay_paused: "已暂停", replay_playing: "播放中", replay_ended: "已结束", replay_gone: "回放不存在", replay_loading: "正在重建态势… {pct}%", replay_preparing: "正在预备快速跳转… {pct}%", replay_prepared: "快速跳转已就绪",
    sub_areas: "下级区域", outline: "辖区",
    coverage: "覆盖范围", coverage_target: "覆盖目标", covered_n: "已覆盖 {n} / {of}", coverage_none: "时限内无可用力量",
    no_moveup: "无需调整备勤", moveup_line: "恢复 {n} 格，失去 {lost} 格，行程 {travel}",
    airports: "机场", ports: "港口", standby_points: "备勤点", helipads: "直升机起降点", hospitals: "医院",
  },
  en: {
    title: "Rescue console", token_label: "Token", login: "Log in", logout: "Log out", follow: "Follow",
    incidents: "Incidents", new_incident: "+ New incident", feed: "Live feed", pick_incident: "Pick an incident, or click the map to report one.",
    live: "live", reconnecting: "reconnecting", catching_up: "catching up", offline: "offline", caught_up: "caught up {n} events",
    chat: "Incident chat", say: "Message…", no_messages: "No messages yet",
    directives: "Directives", direct: "Direct…", no_directives: "No open directives", issue: "Issue", deadline: "Accept within",
    directive_text: "Directive…", to_centre: "To the centre of", to_units: "Unit ids", about: "About incident",
    directive_incomplete: "write the directive and choose who receives it", withdraw: "Withdraw", unable_reason: "Why unable?",
    st_open: "open", st_overdue: "OVERDUE", st_closed: "closed", overdue_alert: "Directive overdue", new_directive: "Directive received",
    ais_traffic: "AIS traffic", scene: "From the scene", caption: "Caption…", upload: "Upload", voice_note: "voice note", clip: "clip", no_media: "No photos or streams yet",
    ans_issued: "issued", ans_received: "received", ans_accepted: "accepted", ans_unable: "unable", ans_done: "done",
    level_province: "province", level_city: "city", level_county: "county", level_township: "township",
    aar: "After-action report", exercise: "Exercise", replay: "Replay", play: "Play", pause: "Pause", speed: "Speed", fastest: "fastest", timeline: "Timeline", fork: "What if…",
    forked: "What-if exercise {id} started from this moment", replay_paused: "paused", replay_playing: "playing", replay_ended: "ended", replay_gone: "no such replay", replay_loading: "rebuilding the picture… {pct}%", replay_preparing: "preparing quick seeks… {pct}%", replay_prepared: "quick seeks ready",
    level1: "province", level2: "city", level3: "county", level4: "township",
    severity: "Severity", category: "Category", persons: "Persons at risk", status: "Status", reported: "Reported", lead: "Lead level",
    areas: "Areas", surface: "Surface", land: "land", sea: "sea", title_f: "Title", coordinates: "Coordinates",
    suggestions: "Suggestions", plan: "Recommended plan", assign: "Assign", assigned_ok: "Assigned", assignments: "Assignments",
    sitreps: "Situation reports", no_sitreps: "No situation reports yet", add_sitrep: "Add a report", send: "Send", release: "Release",
    shortfall: "Shortfall", eta: "ETA", not_assignable: "Not under your command: ask the level above",
    report: "Report incident", cancel: "Cancel", click_map: "Click the map to place it, or type coordinates.",
    outside: "outside my area", none_open: "No open incidents", no_fix: "no fix (shown at home base)",
    fresh: "fresh fix", aging: "aging fix", stale: "stale fix", last_fix: "Last fix", home: "Home base", units_here: "{n} units here", more_units: "and {n} more…", course_vector: "course and speed: {min} min ahead", course_speed: "Course {c}° · {v} km/h",
    legend: "Legend", dispatched_in: "first dispatch after {t}", not_dispatched: "not dispatched", taken: "that unit is taken",
    token_refused: "token refused or expired",
    sub_areas: "Sub-areas", outline: "My area",
    coverage: "Coverage", coverage_target: "Coverage target", covered_n: "{n} of {of} covered", coverage_none: "no unit within the horizon",
    no_moveup: "No move-up needed", moveup_line: "restores {n}, loses {lost}, {travel} to get there",
    airports: "Airports", ports: "Ports", standby_points: "Standby points", helipads: "Helipads", hospitals: "Hospitals",
  },
};

// Codes from the API, in words.
const CODES = {
  zh: {
    category: { maritime_distress: "船舶遇险", person_overboard: "人员落水", vessel_fire: "船舶火灾",
      building_collapse: "建筑倒塌", flood: "洪涝", typhoon_evacuation: "台风转移", landslide: "山体滑坡",
      mountain_rescue: "山地救援", traffic_accident: "交通事故", fire: "火灾", hazmat: "危化品",
      medical_evacuation: "医疗转运", missing_person: "人员失踪" },
    capability: { hoist: "绞车吊救", medevac: "医疗后送", water_rescue: "水上救援", diving: "潜水",
      heavy_rescue: "重型破拆", search_dog: "搜救犬", structural_expert: "结构专家", firefighting: "灭火",
      hazmat: "危化处置", medical: "医疗救护", search: "搜索", survey: "侦察测绘", towing: "拖带",
      evacuation: "人员转移", flood_rescue: "洪涝救援", rope_rescue: "绳索救援", communications: "通信保障",
      firefighting_air: "空中灭火", night_ops: "夜间作业", transport: "运输" },
    kind: { helicopter: "直升机", fixed_wing: "固定翼", drone: "无人机", vessel: "救助船", volunteer_vessel: "志愿船",
      land_team: "地面队伍", volunteer_team: "志愿队伍", expert_team: "专家组" },
    status: { available: "待命", assigned: "已派遣", en_route: "在途", on_scene: "到场", returning: "返航",
      out_of_service: "停用" },
    mode: { air: "空中", sea: "海上", land: "陆路" },
    relation: { own_area: "本辖区", neighbouring_area: "相邻辖区", mutual_aid_higher: "上级调配", mutual_aid_other: "跨区支援" },
    reason: {
      fastest: "最快可用", local_first: "本地优先（时间相近）", faster_by_margin: "明显更快的外部力量",
      preferred_kind: "首选类型", assignment: "为整体方案最优", only_option: "唯一可选",
      current_position: "按当前位置", home_base: "按驻地", position_stale_home_base: "定位过期，按驻地",
    },
    shortfall: { none_available: "无可用力量", out_of_range: "超出航程", unreachable: "无法到达",
      grounded: "受天气影响停飞", positions_stale: "定位过期" },
    incident_status: { reported: "已报告", responding: "处置中", on_scene: "到场", contained: "已控制", closed: "已结案" },
    lead: { national: "国家级", province: "省级", city: "市级", county: "县级", township: "乡镇级" },
    event: {
      "incident.reported": "新事件", "incident.updated": "事件更新", "incident.status": "事件状态",
      "incident.escalated": "事件升级", "incident.deescalated": "事件降级", "incident.assignment": "派遣",
      "incident.release": "撤回", "resource.assigned": "力量受领", "resource.released": "力量撤回",
      "resource.status": "力量状态", "resource.created": "新增力量", "resource.updated": "力量更新",
      "resource.deleted": "删除力量", "sitrep.added": "现场报告", "resource.position": "位置",
      "directive.issued": "下达指令", "directive.answered": "指令回复", "directive.overdue": "指令超时",
      "directive.cancelled": "指令撤销", "message.posted": "指挥对话", "media.added": "现场影像",
      "stream.frame": "实时画面",
    },
  },
  en: {
    category: { maritime_distress: "vessel in distress", person_overboard: "person overboard", vessel_fire: "vessel fire",
      building_collapse: "building collapse", flood: "flood", typhoon_evacuation: "typhoon evacuation", landslide: "landslide",
      mountain_rescue: "mountain rescue", traffic_accident: "traffic accident", fire: "fire", hazmat: "hazardous materials",
      medical_evacuation: "medical evacuation", missing_person: "missing person" },
    kind: { helicopter: "helicopter", fixed_wing: "fixed-wing", drone: "drone", vessel: "rescue vessel",
      volunteer_vessel: "volunteer boat", land_team: "land team", volunteer_team: "volunteer team", expert_team: "expert team" },
    status: { available: "available", assigned: "assigned", en_route: "en route", on_scene: "on scene",
      returning: "returning", out_of_service: "out of service" },
    mode: { air: "air", sea: "sea", land: "land" },
    relation: { own_area: "own area", neighbouring_area: "neighbouring area", mutual_aid_higher: "from the level above",
      mutual_aid_other: "mutual aid" },
    reason: {
      fastest: "fastest free unit", local_first: "local unit first (about as fast)", faster_by_margin: "an outside unit clearly faster",
      preferred_kind: "the preferred kind", assignment: "best for the whole plan", only_option: "the only option",
      current_position: "from its current position", home_base: "from its home base",
      position_stale_home_base: "position stale, from its home base",
    },
    shortfall: { none_available: "none available", out_of_range: "out of range", unreachable: "cannot reach",
      grounded: "grounded by weather", positions_stale: "positions stale" },
    incident_status: { reported: "reported", responding: "responding", on_scene: "on scene", contained: "contained", closed: "closed" },
    lead: { national: "national", province: "province", city: "city", county: "county", township: "township" },
    event: {
      "incident.reported": "new incident", "incident.updated": "incident updated", "incident.status": "incident status",
      "incident.escalated": "escalated", "incident.deescalated": "de-escalated", "incident.assignment": "unit assigned",
      "incident.release": "unit released", "resource.assigned": "unit tasked", "resource.released": "unit released",
      "resource.status": "unit status", "resource.created": "unit added", "resource.updated": "unit updated",
      "resource.deleted": "unit removed", "sitrep.added": "situation report", "resource.position": "position",
      "directive.issued": "directive", "directive.answered": "directive answered", "directive.overdue": "directive OVERDUE",
      "directive.cancelled": "directive withdrawn", "message.posted": "chat", "media.added": "photo / voice / clip",
      "stream.frame": "camera frame",
    },
  },
};

let current = sessionStorage.getItem("rescue.lang")
  || ((navigator.language || "zh").startsWith("en") ? "en" : "zh");

export const lang = () => current;

export function setLang(l) {
  current = l === "en" ? "en" : "zh";
  sessionStorage.setItem("rescue.lang", current);
  document.documentElement.lang = current === "en" ? "en" : "zh-CN";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}

export function t(key, vars) {
  let s = WORDS[current][key] ?? WORDS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

/** A code in words (`word("status", "en_route")`); unknown codes show as themselves. */
export function word(group, code) {
  if (code == null) return "";
  return CODES[current][group]?.[code] ?? String(code).replaceAll("_", " ");
}

const BILINGUAL = /^(.*?)\s*\((.+)\)\s*$/s;

/** The half of a bilingual "中文 (English)" name for the current language. */
export function pickName(text) {
  if (!text) return "";
  const m = BILINGUAL.exec(text);
  if (!m || !/[\u3400-\u9fff]/.test(m[1])) return text;
  return current === "en" ? m[2] : m[1];
}

export function areaName(props) {
  return current === "en" && props.name_en ? props.name_en : props.name;
}

/** 75 -> "1:15", 3725 -> "1:02:05": a clock an operator reads at a glance. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(r).padStart(2, "0")}`;
}

/** An ETA or age in words: "45 s", "12 min", "2 h 05 min". */
export function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 90) return current === "en" ? `${s} s` : `${s} 秒`;
  const m = Math.round(s / 60);
  if (m < 90) return current === "en" ? `${m} min` : `${m} 分钟`;
  const h = Math.floor(m / 60), r = String(m % 60).padStart(2, "0");
  return current === "en" ? `${h} h ${r} min` : `${h} 小时 ${r} 分`;
}

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
