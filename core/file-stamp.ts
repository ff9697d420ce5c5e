// A cheap fingerprint of files (size, mtime, inode): a change means "read them again".

import fs from "node:fs";

export function fileStamp(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const st = fs.statSync(f);
        return `${st.size}:${st.mtimeMs}:${st.ino}`;
      } catch {
        return "-";
      }
    })
    .join("|");
}
