// The live dashboard: signs the user in, loads their days, goals and analytics, then follows
// their stream through the client SDK and redraws in place as events arrive.
import { createPulseClient } from './pulse-client.js';
import { ApiError, request, storedToken, storeToken, takeTokenFromAddress } from './api.js';
import { calendarDays, drawHeartRate, drawSteps } from './charts.js';
import { ConnectionBadge } from './connection.js';
import { logEvent, METRICS, renderAnalytics, renderDay, renderGoals } from './panels.js';

const CHART_DAYS = 31;
const EMPTY_GOALS = { dailySteps: null, sleepMinutes: null, calories: null, weight: null };

const $ = (id) => document.getElementById(id);
const state = {
  days: new Map(),
  goals: EMPTY_GOALS,
  analytics: new Map(),
  client: null,
  mode: 'signin',
};
const badge = new ConnectionBadge($('connection'), $('connection-text'), $('retry'), () =>
  state.client?.reconnect(),
);

function localToday() {
  return new Date().toLocaleDateString('en-CA');
}

// ---- signing in ----

function showAuth(message = '') {
  $('auth').hidden = false;
  $('dashboard').hidden = true;
  $('account').hidden = true;
  $('auth-error').textContent = message;
  badge.show('NOT_INITIALIZED');
}

function setMode(mode) {
  state.mode = mode;
  const signUp = mode === 'signup';
  $('auth-title').textContent = signUp ? 'Create an account' : 'Sign in';
  $('auth-submit').textContent = signUp ? 'Create account' : 'Sign in';
  $('auth-switch').textContent = signUp
    ? 'Have an account? Sign in'
    : 'New here? Create an account';
  $('name-field').hidden = !signUp;
  $('auth-password').autocomplete = signUp ? 'new-password' : 'current-password';
  $('auth-error').textContent = '';
}

async function submitAuth(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const body = { email: form.email.value.trim(), password: form.password.value };
  if (state.mode === 'signup' && form.name.value.trim()) body.name = form.name.value.trim();

  try {
    const path = state.mode === 'signup' ? '/api/auth/register' : '/api/auth/login';
    const answer = await request('POST', path, body);
    storeToken(answer.token);
    form.reset();
    await openDashboard();
  } catch (error) {
    $('auth-error').textContent = error.message;
  }
}

function signOut() {
  state.client?.close();
  state.client = null;
  storeToken(null);
  state.days = new Map();
  state.analytics = new Map();
  $('event-log').replaceChildren();
  showAuth();
  $('auth-email').focus();
}

// ---- the dashboard ----

async function openDashboard() {
  let user;
  try {
    ({ user } = await request('GET', '/api/auth/me'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      storeToken(null);
      return showAuth('Your session has ended: sign in again.');
    }
    return showAuth(error.message);
  }

  $('auth').hidden = true;
  $('dashboard').hidden = false;
  $('account').hidden = false;
  $('account-email').textContent = user.email;
  $('day-date').value = localToday();
  await loadAll();
  connect();
  $('main').focus({ preventScroll: true });
}

async function loadAll() {
  const [days, goals, analytics] = await Promise.all([
    request('GET', `/api/metrics?limit=${CHART_DAYS}`),
    request('GET', '/api/goals'),
    request('GET', '/api/analytics'),
  ]);
  state.days = new Map(days.days.map((day) => [day.date, day]));
  state.goals = goals.goals;
  state.analytics = new Map(analytics.analytics.map((item) => [item.metric, item]));
  render();
}

function connect() {
  const client = createPulseClient({
    baseUrl: location.origin,
    getToken: async () => storedToken() ?? Promise.reject(new Error('signed out')),
    onStateChange: (connectionState) => badge.show(connectionState),
  });
  state.client = client;
  // Events a resumed stream replays were made before its greeting: they are the ones missed.
  let resumedAt = 0;
  const handle = (type, apply) =>
    client.on(type, (event) => {
      apply?.(event.data);
      logEvent($('event-log'), event, event.timestamp < resumedAt);
    });

  handle('connected', (data) => {
    resumedAt = data.resumed ? data.timestamp : 0;
  });
  handle('metrics:updated', (data) => {
    state.days.set(
      data.date,
      Object.fromEntries([
        ['date', data.date],
        ...METRICS.map(({ name }) => [name, data[name] ?? null]),
      ]),
    );
    render();
  });
  handle('metrics:deleted', (data) => {
    state.days.delete(data.date);
    render();
  });
  handle('goals:updated', (data) => {
    state.goals = data.goals;
    render();
  });
  handle('analytics:update', (data) => addAnalytics([data]));
  handle('analytics:batch_update', (data) => addAnalytics(data.analytics ?? []));
  // An import reports one summary instead of a day at a time; a lost resume position means
  // some events are gone. Either way the page reads its data again.
  handle('googlefit:synced', () => void loadAll());
  handle('sync:required', () => void loadAll());
  handle('test:event');
  handle('heartrate:recorded');
}

function addAnalytics(items) {
  for (const item of items) state.analytics.set(item.metric, item);
  renderAnalytics($('analytics-table').tBodies[0], $('analytics-as-of'), state.analytics);
}

function render() {
  const today = localToday();
  const dates = [...state.days.keys()].sort();
  const latest = dates.at(-1);
  const day = state.days.get(today) ?? (latest ? state.days.get(latest) : undefined);
  renderDay($('today-metrics'), $('today-title'), $('today-date'), day, state.goals, today);
  renderGoals($('goals-form'), state.goals);
  renderAnalytics($('analytics-table').tBodies[0], $('analytics-as-of'), state.analytics);
  renderCharts(latest && latest > today ? latest : (latest ?? today));
}

function renderCharts(end) {
  const dates = calendarDays(end, CHART_DAYS);
  const series = (name) =>
    new Map(
      dates
        .map((date) => [date, state.days.get(date)?.[name] ?? null])
        .filter(([, value]) => value !== null),
    );
  const steps = series('steps');
  drawSteps($('steps-chart'), dates, steps, state.goals.dailySteps);
  const average = series('heartRateAverage');
  const resting = series('heartRateResting');
  drawHeartRate($('heart-chart'), dates, [
    { name: 'average', byDate: average },
    { name: 'resting', byDate: resting },
  ]);
  $('steps-caption').textContent = caption('steps', steps, dates, (value) =>
    value.toLocaleString(),
  );
  $('heart-caption').textContent = caption(
    'average heart rate',
    average,
    dates,
    (value) => `${value} bpm`,
  );
}

function caption(what, byDate, dates, format) {
  if (byDate.size === 0) return `No ${what} recorded between ${dates[0]} and ${dates.at(-1)}`;
  const last = [...byDate.keys()].sort().at(-1);
  const latest = `latest ${format(byDate.get(last))} on ${last}`;
  const highest = `highest ${format(Math.max(...byDate.values()))}`;

  return `Daily ${what}, ${dates[0]} to ${dates.at(-1)}: ${latest}, ${highest}`;
}

// ---- forms ----

function numberOrNull(input) {
  return input.value.trim() === '' ? null : Number(input.value);
}

async function submitWith(event, messageId, send) {
  event.preventDefault();
  const message = $(messageId);
  message.textContent = 'Saving…';
  try {
    message.textContent = await send(event.currentTarget);
  } catch (error) {
    message.textContent = error.message;
  }
}

async function saveGoals(form) {
  const goals = Object.fromEntries(
    Object.keys(EMPTY_GOALS).map((name) => [name, numberOrNull(form.elements.namedItem(name))]),
  );
  const answer = await request('PUT', '/api/goals', goals);

  return answer.changed.length ? `Saved: ${answer.changed.join(', ')}` : 'Nothing changed';
}

async function saveDay(form) {
  const values = {};
  for (const name of ['steps', 'sleepMinutes', 'weight', 'heartRateResting']) {
    const value = numberOrNull(form.elements.namedItem(name));
    if (value !== null) values[name] = value;
  }
  const answer = await request('PUT', `/api/metrics/${form.date.value}`, values);

  return answer.changed.length ? `Saved ${answer.day.date}` : 'Nothing changed';
}

async function importExport(form) {
  const files = {};
  for (const name of ['dailyActivity', 'sleepDay', 'heartRate']) {
    const file = form.elements.namedItem(name).files[0];
    if (file) files[name] = await file.text();
  }
  const { summary } = await request('POST', '/api/import/fitbit', {
    participantId: form.participantId.value.trim(),
    files,
  });

  const { rows, days } = summary;

  return (
    `${rows.taken} rows taken, ${rows.refused} refused; ` +
    `${days.created} days new, ${days.updated} changed, ${days.unchanged} unchanged`
  );
}

// ---- start ----

let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => !$('dashboard').hidden && render(), 150);
});
$('auth-form').addEventListener('submit', submitAuth);
$('auth-switch').addEventListener('click', () =>
  setMode(state.mode === 'signin' ? 'signup' : 'signin'),
);
$('sign-out').addEventListener('click', signOut);
$('goals-form').addEventListener('submit', (event) =>
  submitWith(event, 'goals-message', saveGoals),
);
$('day-form').addEventListener('submit', (event) => submitWith(event, 'day-message', saveDay));
$('import-form').addEventListener('submit', (event) =>
  submitWith(event, 'import-message', importExport),
);

takeTokenFromAddress();
if (storedToken()) void openDashboard();
else showAuth();
