import { useCallback, useEffect, useState } from 'react';
import type { DirListing, HostApi } from '../../../../shared/shell-contract';

/**
 * The folder the file dialog shows, listed by the host, and the folder box's text: typed freely, replaced by the
 * folder's real path once it is listed. A folder that cannot be listed leaves the last listing and says why.
 */
export function useDirListing(host: HostApi, startDir: string) {
  const [listing, setListing] = useState<DirListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dirInput, setDirInput] = useState(startDir);
  const load = useCallback(
    (dir: string) => {
      host
        .listDir(dir)
        .then((l) => {
          setListing(l);
          setDirInput(l.path);
          setError(null);
        })
        .catch((e: Error) => setError(e.message));
    },
    [host],
  );
  // The start folder once, when the dialog opens.
  useEffect(() => load(startDir), []); // eslint-disable-line react-hooks/exhaustive-deps
  return { listing, error, dirInput, setDirInput, load };
}
