// GET's `timestampUTC` (API.md): ISO-8601, a date alone or a date-time with `T` or a space between date and
// time (as .NET and SQL print it), optional fraction (any digits, .NET writes 7) and offset; without an offset
// the time is UTC. Every field is range-checked, so 2024-02-30 or 25:00 is a 400, never a silent roll-over.
const pattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/i;

/** The instant, or undefined when the text is not an existing ISO-8601 date-time. */
export function parseTimestamp(raw: string): Date | undefined {
  // A `+01:00` offset sent unencoded arrives as ` 01:00` (a query string decodes `+` to a space).
  const text = raw.trim().replace(/(\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}:?\d{2})$/, '$1+$2');
  const match = pattern.exec(text);
  if (match == null) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', , sign, offsetHours = '0', offsetMinutes = '0'] = match;
  const fields = { year: Number(year), month: Number(month), day: Number(day), hour: Number(hour), minute: Number(minute), second: Number(second) };
  if (fields.month < 1 || fields.month > 12 || fields.day < 1 || fields.day > daysIn(fields.year, fields.month)) return undefined;
  if (fields.hour > 23 || fields.minute > 59 || fields.second > 59) return undefined;
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return undefined;
  const milliseconds = fraction === '' ? 0 : Number(`0.${fraction}`) * 1000;
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
  const utc = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second) + milliseconds - offset * 60_000;
  return Number.isFinite(utc) ? new Date(utc) : undefined;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
