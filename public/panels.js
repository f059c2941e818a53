// Renders the dashboard's panels from plain data: the day's tiles, the analytics table, the
// goals form and the event log. Nothing here fetches or listens.

/** Each metric as people read it. */
export const METRICS = [
  {
    name: 'steps',
    label: 'Steps',
    format: (v) => Math.round(v).toLocaleString(),
    goal: 'dailySteps',
  },
  { name: 'distance', label: 'Distance', format: (v) => `${v.toFixed(2)} km` },
  {
    name: 'calories',
    label: 'Calories',
    format: (v) => `${Math.round(v).toLocaleString()} kcal`,
    goal: 'calories',
  },
  { name: 'activeMinutes', label: 'Active', format: (v) => `${Math.round(v)} min` },
  { name: 'sleepMinutes', label: 'Sleep', format: minutesAsHours, goal: 'sleepMinutes' },
  { name: 'weight', label: 'Weight', format: (v) => `${v.toFixed(1)} kg`, goal: 'weight' },
  { name: 'heartRateResting', label: 'Resting heart rate', format: (v) => `${v.toFixed(1)} bpm` },
  { name: 'heartRateAverage', label: 'Average heart rate', format: (v) => `${v.toFixed(1)} bpm` },
];

const LOG_LIMIT = 100;

function minutesAsHours(minutes) {
  return `${Math.floor(minutes / 60)} h ${String(Math.round(minutes % 60)).padStart(2, '0')} min`;
}

function labelOf(name) {
  return METRICS.find((metric) => metric.name === name)?.label ?? name;
}

function node(tag, attributes = {}, text) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;

  return element;
}

function goalNote(metric, value, goals) {
  const target = metric.goal ? goals[metric.goal] : null;
  if (target == null) return '';
  if (metric.goal === 'weight') return `goal ${target} kg`;

  return `${Math.round((value / target) * 100)}% of ${metric.format(target)}`;
}

/** Fills the tiles with one day's metrics, and says which day it is. */
export function renderDay(container, heading, dateLine, day, goals, today) {
  container.replaceChildren();
  heading.textContent = day && day.date !== today ? 'Latest day' : 'Today';
  dateLine.textContent = day
    ? formatDay(day.date)
    : 'No data yet: record a day, or import an export';
  if (!day) return;

  for (const metric of METRICS) {
    const value = day[metric.name];
    if (value == null) continue;
    const tile = node('div', { class: 'tile', 'data-metric': metric.name });
    tile.append(node('dt', {}, metric.label), node('dd', { class: 'value' }, metric.format(value)));
    const note = goalNote(metric, value, goals);
    if (note) tile.append(node('dd', { class: 'note' }, note));
    container.append(tile);
  }
}

function formatDay(date) {
  const options = {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  };

  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, options);
}

/** Fills the analytics table, one row per metric. */
export function renderAnalytics(body, asOfLine, items) {
  body.replaceChildren();
  const sorted = METRICS.map((metric) => items.get(metric.name)).filter(Boolean);
  asOfLine.textContent = sorted.length
    ? `As of ${formatDay(sorted[0].asOf)}`
    : 'None yet: they arrive when the analytics job runs (pulse analytics)';

  for (const item of sorted) {
    const metric = METRICS.find((candidate) => candidate.name === item.metric);
    const format = (value) => (value == null ? '–' : metric.format(value));
    const row = node('tr', { 'data-metric': item.metric });
    row.append(
      node('th', { scope: 'row' }, metric.label),
      node('td', { 'data-label': '7-day avg' }, format(item.average7)),
      node('td', { 'data-label': '30-day avg' }, format(item.average30)),
      node('td', { 'data-label': '14-day trend' }, trendText(item.trend)),
      node('td', { 'data-label': 'Anomalies' }, anomalyText(item.anomalies, metric)),
    );
    body.append(row);
  }
}

function trendText(trend) {
  if (trend.direction === 'unknown') return 'not enough days';
  const arrow = { up: '↑ up', down: '↓ down', flat: '→ flat' }[trend.direction];

  return `${arrow} (${trend.slopePerDay > 0 ? '+' : ''}${trend.slopePerDay}/day)`;
}

function anomalyText(anomalies, metric) {
  if (anomalies.length === 0) return 'none';

  return anomalies.map((anomaly) => `${anomaly.date}: ${metric.format(anomaly.value)}`).join('; ');
}

/** Puts the goals into the goals form. */
export function renderGoals(form, goals) {
  for (const [name, value] of Object.entries(goals)) {
    const input = form.elements.namedItem(name);
    if (input && document.activeElement !== input) input.value = value ?? '';
  }
}

/** Adds an event to the top of the log, keeping the newest LOG_LIMIT; `missed` marks a replay. */
export function logEvent(list, event, missed = false) {
  const item = node('li', { 'data-type': event.type });
  const time = new Date(event.timestamp || Date.now());
  item.append(
    node('time', { datetime: time.toISOString() }, time.toLocaleTimeString()),
    node('strong', {}, event.type),
  );
  if (missed) {
    item.dataset.missed = 'true';
    item.append(node('span', { class: 'missed' }, 'missed while offline:'));
  }
  item.append(node('span', {}, describe(event)));
  if (event.id) item.dataset.id = event.id;
  list.prepend(item);
  while (list.children.length > LOG_LIMIT) list.lastElementChild.remove();
}

function describe({ type, data }) {
  switch (type) {
    case 'metrics:updated': {
      const values = METRICS.filter(
        (metric) => data[metric.name] != null && (data.changed ?? []).includes(metric.name),
      )
        .map((metric) => `${metric.label.toLowerCase()} ${metric.format(data[metric.name])}`)
        .join(', ');
      const goals = (data.goalsReached ?? []).length
        ? ` · goal reached: ${data.goalsReached.join(', ')}`
        : '';
      return `${data.date}: ${values || 'updated'}${goals}`;
    }
    case 'metrics:deleted':
      return `${data.date} deleted`;
    case 'goals:updated':
      return `changed ${(data.changed ?? []).join(', ')}`;
    case 'googlefit:synced':
      return (
        `import finished: ${data.days?.created ?? 0} days new, ` +
        `${data.days?.updated ?? 0} changed, ${data.rows?.refused ?? 0} rows refused`
      );
    case 'analytics:update':
      return `analytics for ${labelOf(data.metric).toLowerCase()}`;
    case 'analytics:batch_update':
      const names = (data.analytics ?? []).map((item) => labelOf(item.metric).toLowerCase());
      return `analytics for ${names.join(', ')}`;
    case 'sync:required':
      return 'some events could not be replayed: data reloaded';
    case 'connected': {
      if (!data.resumed) return data.syncRequired ? 'reconnected; reloading data' : 'stream opened';
      // A long replay comes in pages; `replayed` counts the first.
      const count = `${data.replayed}${data.moreToReplay ? '+' : ''}`;
      return `reconnected; ${count} missed event${data.replayed === 1 ? '' : 's'} replayed`;
    }
    default:
      return JSON.stringify(data).slice(0, 120);
  }
}
