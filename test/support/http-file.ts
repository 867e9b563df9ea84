// Reads a .http file (VS Code REST Client format) into requests, so test.http can run as a test.

export interface HttpFileRequest {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export function parseHttpFile(text: string, variables: Record<string, string> = {}): HttpFileRequest[] {
  const vars: Record<string, string> = {};
  for (const match of text.matchAll(/^@(\w+)\s*=\s*(.+)$/gm)) vars[match[1]!] = match[2]!.trim();
  Object.assign(vars, variables);
  const substitute = (value: string) => value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => vars[name] ?? `{{${name}}}`);

  const requests: HttpFileRequest[] = [];
  let name = '';
  for (const block of text.split(/^###/m)) {
    const heading = block.split('\n')[0]?.trim();
    const lines = block.split('\n').slice(1).filter((line) => !line.startsWith('#') && !line.startsWith('@'));
    const start = lines.findIndex((line) => /^(GET|POST|PUT|DELETE|PATCH)\s/.test(line));
    if (heading) name = heading;
    if (start < 0) continue;
    const [method = 'GET', url = ''] = lines[start]!.trim().split(/\s+/);
    const headers: Record<string, string> = {};
    let index = start + 1;
    for (; index < lines.length && lines[index]!.trim() !== ''; index++) {
      const line = lines[index]!;
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = substitute(line.slice(colon + 1).trim());
    }
    const body = lines.slice(index + 1).join('\n').trim();
    requests.push({ name, method, url: substitute(url), headers, ...(body === '' ? {} : { body: substitute(body) }) });
  }
  return requests;
}
