import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PulseError } from '../../errors.js';
import { importParticipant } from '../../import/fitbit-import.js';
import { planUpload } from '../../import/fitbit-sources.js';
import type { FitbitTexts } from '../../replay/fitbit-data.js';
import { currentUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { refuseUnknownFields } from '../health-rules.js';
import { USER_AUTH } from '../route-docs.js';

const FILE_KEYS = ['dailyActivity', 'sleepDay', 'heartRate'] as const;

const importSchema = {
  summary: "Import the caller's Fitbit export (CSV text per file) as daily metrics",
  description:
    'One participant of a Fitbit export: dailyActivity_merged.csv, sleepDay_merged.csv and ' +
    'heartrate_seconds_sample.csv as text. Idempotent; ends with one googlefit:synced event ' +
    'when anything changed. The body may be up to IMPORT_MAX_BYTES.',
  security: USER_AUTH,
  body: {
    type: 'object',
    required: ['participantId', 'files'],
    additionalProperties: false,
    properties: {
      participantId: { type: 'string', pattern: '^\\d{1,20}$' },
      files: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(FILE_KEYS.map((key) => [key, { type: 'string' }])),
      },
    },
  },
};

const fieldMessages = {
  'body.participantId': 'participantId must be the participant number of the export (digits)',
  'body.files': `files must be an object of CSV texts: ${FILE_KEYS.join(', ')}`,
  ...Object.fromEntries(
    FILE_KEYS.map((key) => [`body.files.${key}`, `files.${key} must be the CSV file as text`]),
  ),
};

interface ImportBody {
  participantId: string;
  files: FitbitTexts;
}

/**
 * Imports one participant's rows of a Fitbit export into the signed-in user's days. A JSON body
 * rather than multipart keeps the route as plain as the others; its limit is IMPORT_MAX_BYTES.
 */
export async function importRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { metrics } = context.health;
  const { outboxRelay } = context;
  const refuseUnknown = refuseUnknownFields(['participantId', 'files']);

  app.post<{ Body: ImportBody }>(
    '/api/import/fitbit',
    {
      onRequest: requireUser(context),
      preValidation: async (request) => {
        await refuseUnknown(request);
        refuseUnknownFiles(request);
      },
      bodyLimit: context.config.importMaxBytes,
      schema: importSchema,
      config: { fieldMessages },
    },
    async (request) => {
      const userId = currentUser(request).id;
      const { participantId, files } = request.body;

      const { plan, refused, otherParticipants } = planUpload(files, participantId);
      const { summary, queued } = await importParticipant(metrics, userId, plan, refused);
      const [eventId] = await outboxRelay.deliver(userId, queued);

      return { success: true, summary, otherParticipants, eventId: eventId ?? null };
    },
  );
}

function refuseUnknownFiles(request: FastifyRequest): void {
  const files = (request.body as { files?: unknown }).files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) return;

  const keys = Object.keys(files);
  const unknown = keys.find((key) => !(FILE_KEYS as readonly string[]).includes(key));
  if (unknown !== undefined) {
    const message = `files.${unknown} is not a known file; known files: ${FILE_KEYS.join(', ')}`;
    throw new PulseError('VALIDATION_FAILED', message);
  }
  if (keys.length === 0) {
    throw new PulseError(
      'VALIDATION_FAILED',
      `files must hold at least one of ${FILE_KEYS.join(', ')}`,
    );
  }
}
