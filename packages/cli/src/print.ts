// Printing is separate from the commands' work: `--json` prints the very data the text shows.
export function output<T>(json: boolean | undefined, data: T, text: (data: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : text(data))
}

export const lines = (items: readonly string[]): string => items.map((l) => `${l}\n`).join('')
