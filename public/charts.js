// Small SVG charts drawn by hand: a bar chart of steps and a line chart of heart rate. Each
// call redraws one <svg> in place, so charts follow the events without a page reload.

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 52 };
const MIN_WIDTH = 240;

// Drawn at the size it is shown, so text keeps its size on a phone instead of shrinking.
function prepare(svg) {
  const width = Math.max(MIN_WIDTH, Math.round(svg.getBoundingClientRect().width) || 600);
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);

  return width;
}

function element(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;

  return node;
}

// An empty chart says so instead of drawing axes around nothing.
function drawEmpty(svg, width, text) {
  const attributes = { class: 'empty', x: width / 2, y: HEIGHT / 2, 'text-anchor': 'middle' };
  svg.append(element('text', attributes, text));
}

function scaleY(max) {
  const inner = HEIGHT - PAD.top - PAD.bottom;

  return (value) => PAD.top + inner - (max === 0 ? 0 : (value / max) * inner);
}

// A round number at or above the largest value, so gridlines fall on readable values.
function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= value);

  return step * magnitude;
}

function drawAxes(svg, width, max, dates, format) {
  const y = scaleY(max);
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    svg.append(
      element('line', {
        class: 'grid',
        x1: PAD.left,
        x2: width - PAD.right,
        y1: y(value),
        y2: y(value),
      }),
    );
    svg.append(
      element(
        'text',
        { class: 'axis', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' },
        format(value),
      ),
    );
  }
  if (dates.length === 0) return;
  const labels = [dates[0], dates.at(-1)];
  svg.append(element('text', { class: 'axis', x: PAD.left, y: HEIGHT - 8 }, shortDate(labels[0])));
  svg.append(
    element(
      'text',
      { class: 'axis', x: width - PAD.right, y: HEIGHT - 8, 'text-anchor': 'end' },
      shortDate(labels[1]),
    ),
  );
}

function shortDate(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, {
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

/** The dates of the `count` calendar days ending on `last`, oldest first. */
export function calendarDays(last, count) {
  const end = Date.parse(`${last}T00:00:00Z`);

  return Array.from({ length: count }, (_, index) =>
    new Date(end - (count - 1 - index) * 86_400_000).toISOString().slice(0, 10),
  );
}

/** Redraws the steps bar chart: one bar per day, and the goal as a dashed line. */
export function drawSteps(svg, dates, stepsByDate, goal) {
  const width = prepare(svg);
  const values = dates.map((date) => stepsByDate.get(date) ?? null);
  if (values.every((value) => value === null))
    return drawEmpty(svg, width, 'No steps in these days');
  const max = niceMax(Math.max(goal ?? 0, ...values.filter((value) => value !== null)));
  const y = scaleY(max);
  drawAxes(svg, width, max, dates, (value) => Math.round(value).toLocaleString());

  const slot = (width - PAD.left - PAD.right) / Math.max(dates.length, 1);
  dates.forEach((date, index) => {
    const value = values[index];
    if (value === null) return;
    const reached = goal !== null && value >= goal;
    const bar = element('rect', {
      class: reached ? 'bar reached' : 'bar',
      x: PAD.left + index * slot + slot * 0.15,
      y: y(value),
      width: slot * 0.7,
      height: Math.max(0, y(0) - y(value)),
      'data-date': date,
      'data-value': value,
    });
    bar.append(element('title', {}, `${date}: ${value.toLocaleString()} steps`));
    svg.append(bar);
  });
  if (goal !== null) {
    svg.append(
      element('line', {
        class: 'goal-line',
        x1: PAD.left,
        x2: width - PAD.right,
        y1: y(goal),
        y2: y(goal),
      }),
    );
  }
}

/** Redraws the heart-rate chart: a line per series, with a dot on each day that has a value. */
export function drawHeartRate(svg, dates, series) {
  const width = prepare(svg);
  const all = series.flatMap(({ byDate }) =>
    dates.map((date) => byDate.get(date)).filter((value) => value != null),
  );
  if (all.length === 0) return drawEmpty(svg, width, 'No heart rate in these days');
  const max = niceMax(Math.max(...all, 0));
  const y = scaleY(max);
  drawAxes(svg, width, max, dates, (value) => String(Math.round(value)));

  const slot = (width - PAD.left - PAD.right) / Math.max(dates.length, 1);
  const x = (index) => PAD.left + index * slot + slot / 2;
  for (const { name, byDate } of series) {
    const points = dates
      .map((date, index) => ({ date, index, value: byDate.get(date) }))
      .filter((point) => point.value != null);
    if (points.length > 1) {
      const path = points.map(
        (point, order) => `${order === 0 ? 'M' : 'L'}${x(point.index)},${y(point.value)}`,
      );
      svg.append(element('path', { class: `line line-${name}`, d: path.join(' ') }));
    }
    for (const point of points) {
      const dot = element('circle', {
        class: `dot-${name}`,
        cx: x(point.index),
        cy: y(point.value),
        r: 4,
        'data-date': point.date,
        'data-value': point.value,
      });
      dot.append(element('title', {}, `${point.date}: ${name} ${point.value} bpm`));
      svg.append(dot);
    }
  }
}
