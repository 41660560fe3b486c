// The dispatcher's advice in words: per requirement its candidates (ETA, distance, mode,
// relation, reason), its shortfall, and the recommended plan. Shared by the incident panel
// (with Assign buttons) and the new-incident preview (without).

import { duration, escapeHtml, pickName, t, word } from "./i18n.js";

/** A unit by name and call sign: from the registry in scope, else as the advice names it. */
function unitLabel(units, id, named) {
  const u = units.get(id) || named;
  return u && u.name ? `${pickName(u.name)}${u.call_sign ? ` · ${u.call_sign}` : ""}` : id;
}

/** HTML of a suggestion. `assigned` is the set of unit ids already on the incident. */
export function adviceHtml(s, { units, assignable = false, assigned = new Set() }) {
  const named = new Map();
  for (const r of s.requirements || []) for (const c of r.candidates) named.set(c.resource_id, c);
  const planned = new Map((s.plan || []).map((p) => [`${p.requirement}|${p.resource_id}`, p]));
  const parts = [];
  for (const r of s.requirements || []) {
    const rows = r.candidates.map((c) => {
      const plan = planned.get(`${r.capability}|${c.resource_id}`);
      const outside = c.relation !== "own_area";
      const taken = assigned.has(c.resource_id);
      const button = !assignable ? "" : taken ? `<span class="tag">${escapeHtml(t("assigned_ok"))}</span>`
        : `<button type="button" class="assign" data-rid="${escapeHtml(c.resource_id)}" data-req="${escapeHtml(r.capability)}"
            data-eta="${c.eta_s}" ${c.assignable === false ? `disabled title="${escapeHtml(t("not_assignable"))}"` : ""}>${escapeHtml(t("assign"))}</button>`;
      return `<div class="cand${plan ? " planned" : ""}" data-rid="${escapeHtml(c.resource_id)}">
        <span class="name">${escapeHtml(unitLabel(units, c.resource_id, c))}</span>${button || "<span></span>"}
        <span class="why"><b class="eta">${escapeHtml(duration(c.eta_s))}</b> · ${c.distance_km.toFixed(1)} km
          · ${escapeHtml(word("kind", c.kind))} · ${escapeHtml(word("mode", c.mode))}
          · <span class="tag${outside ? " outside" : ""}">${escapeHtml(word("relation", c.relation))}</span>
          · ${escapeHtml(word("reason", c.reason))}${plan && plan.reason ? ` · ★ ${escapeHtml(word("reason", plan.reason))}` : ""}</span>
      </div>`;
    }).join("");
    const short = r.shortfall ? `<p class="shortfall">${escapeHtml(t("shortfall"))}: ${escapeHtml(word("shortfall", r.shortfall.code))}
      <br><span class="dim">${escapeHtml(r.shortfall.detail)}</span></p>` : "";
    parts.push(`<div class="req" data-cap="${escapeHtml(r.capability)}">
      <h4>${escapeHtml(word("capability", r.capability))} × ${r.count}</h4>${short}${rows}</div>`);
  }
  const plan = (s.plan || []).map((p) => `<li>${escapeHtml(word("capability", p.requirement))}: ${escapeHtml(unitLabel(units, p.resource_id, named.get(p.resource_id)))}
      · ${escapeHtml(duration(p.eta_s))} · ${escapeHtml(word("reason", p.reason))}</li>`).join("");
  const latest = s.plan_latest_eta_s != null ? ` · ${escapeHtml(t("eta"))} ≤ ${escapeHtml(duration(s.plan_latest_eta_s))}` : "";
  return `<h3>${escapeHtml(t("suggestions"))}</h3>${parts.join("")}
    <h3>${escapeHtml(t("plan"))}${latest}</h3><ol class="plan">${plan}</ol>`;
}
