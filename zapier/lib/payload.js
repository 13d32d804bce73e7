'use strict';
// The lifecycle event payload of design.md ("Lifecycle events") with the keys docs/events.md ("Payload keys")
// adds (from_user_id, click_to_call, origin, end_reason, end_detail): every key is always present (null when
// unknown), so these output fields and the sample below describe every hook body and every
// GET /api/v1/events item alike.

const outputFields = [
  { key: 'id', label: 'Event ID' },
  { key: 'type', label: 'Event Type' },
  { key: 'occurred_at', label: 'Occurred At', type: 'datetime' },
  { key: 'account_id', label: 'Account ID' },
  { key: 'call_id', label: 'Call ID' },
  { key: 'direction', label: 'Direction' },
  { key: 'from_number', label: 'Caller Number' },
  { key: 'from_name', label: 'Caller Name' },
  { key: 'to_number', label: 'Called Number' },
  { key: 'to_name', label: 'Called Name' },
  { key: 'user_id', label: 'User ID' },
  { key: 'user_name', label: 'User Name' },
  { key: 'extension', label: 'Extension' },
  { key: 'from_user_id', label: 'Calling User ID' },
  { key: 'started_at', label: 'Started At', type: 'datetime' },
  { key: 'answered_at', label: 'Answered At', type: 'datetime' },
  { key: 'ended_at', label: 'Ended At', type: 'datetime' },
  { key: 'duration_s', label: 'Duration (seconds)', type: 'integer' },
  { key: 'talk_s', label: 'Talk Time (seconds)', type: 'integer' },
  { key: 'hangup_cause', label: 'Hangup Cause' },
  { key: 'recording_url', label: 'Recording URL' },
  { key: 'park_slot', label: 'Park Slot' },
  { key: 'queue_id', label: 'Queue ID' },
  { key: 'click_to_call', label: 'Click-to-Call Button Call', type: 'boolean' },
  { key: 'origin', label: 'Originated By' },
  { key: 'end_reason', label: 'End Reason' },
  { key: 'end_detail', label: 'End Detail' },
  { key: 'summary', label: 'Summary' },
  { key: 'raw', label: 'Raw Kazoo Events' },
];

const PAYLOAD_KEYS = outputFields.map((f) => f.key);

/** A believable payload of `type` (an inbound call to Bob), for the trigger's static sample. */
const sampleOf = (type) => {
  const ended = type === 'call.ended' || type === 'call.missed';
  const answered = !['call.started', 'call.missed', 'call.queue.entered'].includes(type);
  return {
    id: `evt_sample_${type.replace(/\./g, '_')}`,
    type,
    occurred_at: ended ? '2026-11-21T10:16:05Z' : '2026-11-21T10:15:03Z',
    account_id: '8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d',
    call_id: 'b1946ac92492d2347c6235b4d2611184',
    direction: 'inbound',
    from_number: '+15551234567',
    from_name: 'Jane Roe',
    to_number: '1002',
    to_name: 'Bob Jones',
    user_id: '4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
    user_name: 'Bob Jones',
    extension: '1002',
    from_user_id: null,
    started_at: '2026-11-21T10:14:57Z',
    answered_at: answered ? '2026-11-21T10:15:03Z' : null,
    ended_at: ended ? '2026-11-21T10:16:05Z' : null,
    duration_s: ended ? 68 : null,
    talk_s: ended && answered ? 62 : null,
    hangup_cause: ended ? 'NORMAL_CLEARING' : null,
    recording_url: null,
    park_slot: type === 'call.parked' || type === 'call.retrieved' ? '101' : null,
    queue_id: type === 'call.queue.entered' ? 'a1b2c3d4e5f60718293a4b5c6d7e8f90' : null,
    click_to_call: false,
    origin: null,
    end_reason: ended ? 'hangup' : null,
    end_detail: null,
    summary: 'Inbound call from +1 555 123 4567 (Jane Roe) to Bob Jones (ext 1002)',
    raw: {},
  };
};

module.exports = { outputFields, PAYLOAD_KEYS, sampleOf };
