import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parseCsv } from '../src/replay/csv.js';
import {
  FITBIT_FILES,
  loadFitbitFolder,
  parseFitbitTexts,
  parseUsDateTime,
} from '../src/replay/fitbit-data.js';

const DATASET = fileURLToPath(new URL('../datasets/fitbit/', import.meta.url));
const iso = (time: number | undefined): string | undefined =>
  time === undefined ? undefined : new Date(time).toISOString();

describe('the real Fitbit data set', { timeout: 20_000 }, () => {
  it('yields one daily record per activity row, as many as the README lists', async () => {
    const data = await loadFitbitFolder(DATASET);

    // 940 activity rows; every sleep row matches an activity day, so there are no sleep-only
    // days; 413 sleep rows include 3 exact duplicates, which leaves 410 days with sleep.
    assert.equal(data.daily.length, 940);
    assert.equal(data.daily.filter((day) => day.steps === null).length, 0);
    assert.equal(data.daily.filter((day) => day.sleepMinutes !== null).length, 410);
    assert.equal(new Set(data.daily.map((day) => day.participantId)).size, 33);
    assert.equal(data.heartRate.length, 17_666);
    assert.deepEqual(data.filesRead, Object.values(FITBIT_FILES));
  });

  it('refuses the three duplicated sleep rows with a reason', async () => {
    const data = await loadFitbitFolder(DATASET);

    assert.deepEqual(
      data.refused.map((row) => `${row.file}:${row.line}: ${row.reason}`),
      [
        'sleepDay_merged.csv:163: duplicate sleep row for participant 4388161847 on 2016-05-05',
        'sleepDay_merged.csv:225: duplicate sleep row for participant 4702921684 on 2016-05-07',
        'sleepDay_merged.csv:382: duplicate sleep row for participant 8378563200 on 2016-04-25',
      ],
    );
  });

  it('merges activity and sleep of participant 1503960366 as the CSV rows state', async () => {
    const data = await loadFitbitFolder(DATASET);
    const day = (date: string) =>
      data.daily.find((row) => row.participantId === '1503960366' && row.date === date);

    // dailyActivity line 3: 4/13/2016, 10735 steps, 6.96999979 km, 21+19+217 active minutes,
    // 1797 calories; sleepDay line 3: 384 minutes asleep.
    assert.deepEqual(day('2016-04-13'), {
      participantId: '1503960366',
      date: '2016-04-13',
      steps: 10735,
      distance: 6.96999979,
      calories: 1797,
      activeMinutes: 257,
      sleepMinutes: 384,
    });
    // dailyActivity line 4: 4/14/2016, 10460 steps, 30+11+181 active minutes; no sleep row.
    assert.equal(day('2016-04-14')?.activeMinutes, 222);
    assert.equal(day('2016-04-14')?.sleepMinutes, null);
  });

  it('agrees with a plain line-by-line reading on every steps figure', async () => {
    const data = await loadFitbitFolder(DATASET);
    const text = await readFile(path.join(DATASET, FITBIT_FILES.dailyActivity), 'utf8');

    // This file has no quoted fields, so splitting on commas is an independent reading.
    const lines = text.split('\r\n').filter((line) => line !== '');
    const totalSteps = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[2]), 0);
    assert.equal(lines.length - 1, 940);
    assert.equal(
      data.daily.reduce((sum, day) => sum + (day.steps ?? 0), 0),
      totalSteps,
    );
  });

  it('sorts heart-rate samples by time and reads 12-hour clock times', async () => {
    const { heartRate } = await loadFitbitFolder(DATASET);

    assert.ok(heartRate.every((sample, i) => i === 0 || heartRate[i - 1]!.time <= sample.time));
    assert.deepEqual(heartRate[0], {
      participantId: '8877689391',
      time: Date.UTC(2016, 4, 10, 6, 55, 26),
      bpm: 71,
    });
    assert.equal(iso(heartRate.at(-1)?.time), '2016-05-12T14:44:28.000Z');
    // heartrate line 2221 reads "5/10/2016 12:00:01 PM,63": noon, not midnight.
    const noon = heartRate.find((sample) => sample.time === Date.UTC(2016, 4, 10, 12, 0, 1));
    assert.equal(noon?.bpm, 63);
  });
});

describe('parseCsv', () => {
  it('reads CRLF rows, quoted commas, doubled quotes and quoted line breaks', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",z\r\n';
    const table = parseCsv(text);

    assert.deepEqual(table.header, ['a', 'b', 'c']);
    assert.deepEqual(
      table.records.map((record) => record.values),
      [
        { a: '1', b: 'x, y', c: 'say "hi"' },
        { a: '2', b: 'two\r\nlines', c: 'z' },
      ],
    );
    assert.deepEqual(
      table.records.map((record) => record.line),
      [2, 3],
    );
  });

  it('skips blank lines, ignores extra fields and leaves missing trailing fields absent', () => {
    const table = parseCsv('\uFEFFa,b,c\n\n1,2,3,extra\r\n\r\n4\n\n');

    assert.deepEqual(
      table.records.map((record) => [record.line, record.fieldCount, record.values]),
      [
        [3, 4, { a: '1', b: '2', c: '3' }],
        [5, 1, { a: '4' }],
      ],
    );
  });

  it('marks an unterminated quoted field as a problem', () => {
    const [record] = parseCsv('a,b\n1,"open\n').records;

    assert.equal(record?.problem, 'unterminated quoted field');
  });

  it('returns nothing for empty text', () => {
    assert.deepEqual(parseCsv(''), { header: [], records: [] });
  });
});

describe('parseUsDateTime', () => {
  it('reads dates and times as UTC wall-clock', () => {
    assert.equal(iso(parseUsDateTime('4/12/2016')), '2016-04-12T00:00:00.000Z');
    assert.equal(iso(parseUsDateTime('4/12/2016 0:00')), '2016-04-12T00:00:00.000Z');
    assert.equal(iso(parseUsDateTime('5/10/2016 6:55:26 AM')), '2016-05-10T06:55:26.000Z');
    assert.equal(iso(parseUsDateTime('5/10/2016 12:00:01 AM')), '2016-05-10T00:00:01.000Z');
    assert.equal(iso(parseUsDateTime('5/10/2016 11:59:59 pm')), '2016-05-10T23:59:59.000Z');
  });

  it('rejects impossible dates and times', () => {
    for (const text of [
      '2/30/2016',
      '13/1/2016',
      '4/12/16',
      '4/12/2016 13:00 PM',
      '4/12/2016 24:00',
    ]) {
      assert.equal(parseUsDateTime(text), undefined, text);
    }
  });
});

describe('parseFitbitTexts', () => {
  const activityHeader =
    'Id,ActivityDate,TotalSteps,TotalDistance,VeryActiveMinutes,FairlyActiveMinutes,' +
    'LightlyActiveMinutes,Calories,Week_Day';

  it('uses the header for column order and merges a sleep-only day', () => {
    const data = parseFitbitTexts({
      dailyActivity:
        'Calories,ActivityDate,Id,TotalSteps,TotalDistance,' +
        'VeryActiveMinutes,FairlyActiveMinutes,LightlyActiveMinutes\r\n' +
        '2000,4/12/2016,7,100,0.5,1,2,3\r\n',
      sleepDay:
        'Id,SleepDay,TotalMinutesAsleep\r\n7,4/13/2016 0:00,400\r\n7,4/12/2016 0:00,300\r\n',
    });

    assert.deepEqual(data.daily, [
      {
        participantId: '7',
        date: '2016-04-12',
        steps: 100,
        distance: 0.5,
        calories: 2000,
        activeMinutes: 6,
        sleepMinutes: 300,
      },
      {
        participantId: '7',
        date: '2016-04-13',
        steps: null,
        distance: null,
        calories: null,
        activeMinutes: null,
        sleepMinutes: 400,
      },
    ]);
    assert.deepEqual(data.refused, []);
  });

  it('refuses bad rows with a reason and keeps the good ones', () => {
    const data = parseFitbitTexts({
      dailyActivity: [
        activityHeader,
        '1,4/12/2016,100,1.5,1,2,3,2000,3',
        '1,4/13/2016,lots,1.5,1,2,3,2000,4',
        '1,2/30/2016,100,1.5,1,2,3,2000,4',
        '1,4/14/2016,100,1.5,1,2,3',
        '1,4/12/2016,100,1.5,1,2,3,2000,3',
        '',
      ].join('\r\n'),
      heartRate: 'Id,Time,Value\n1,4/12/2016 1:00:00 PM,70\n1,4/12/2016 1:00:05 PM,\n',
    });

    assert.equal(data.daily.length, 1);
    assert.equal(data.heartRate.length, 1);
    assert.deepEqual(
      data.refused.map((row) => [row.file, row.line, row.reason]),
      [
        ['dailyActivity_merged.csv', 3, 'TotalSteps is not a whole number: "lots"'],
        ['dailyActivity_merged.csv', 4, 'ActivityDate is not a US date: "2/30/2016"'],
        ['dailyActivity_merged.csv', 5, 'missing Calories'],
        ['dailyActivity_merged.csv', 6, 'duplicate activity row for participant 1 on 2016-04-12'],
        ['heartrate_seconds_sample.csv', 3, 'missing Value'],
      ],
    );
  });
});

describe('loadFitbitFolder', () => {
  it('works with only some of the files present', async (t) => {
    const folder = await mkdtemp(path.join(tmpdir(), 'pulse-fitbit-'));
    t.after(() => rm(folder, { recursive: true, force: true }));
    await writeFile(
      path.join(folder, FITBIT_FILES.heartRate),
      'Id,Time,Value\r\n9,5/1/2016 1:00:00 AM,60\r\n',
    );

    const data = await loadFitbitFolder(folder);

    assert.deepEqual(data.filesRead, [FITBIT_FILES.heartRate]);
    assert.deepEqual(data.daily, []);
    assert.equal(data.heartRate.length, 1);
  });

  it('fails clearly on a folder without any data set file', async (t) => {
    const folder = await mkdtemp(path.join(tmpdir(), 'pulse-fitbit-'));
    t.after(() => rm(folder, { recursive: true, force: true }));

    await assert.rejects(
      loadFitbitFolder(folder),
      /no Fitbit data files in .*dailyActivity_merged/,
    );
    await assert.rejects(loadFitbitFolder(path.join(folder, 'absent')), /folder not found/);
  });
});
