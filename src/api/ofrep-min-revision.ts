// flagConfigEtag (OFREP ADR-0008): the ETag a change notification carried. A re-fetch with it
// must not be answered from older state than it; this says which revision that is.
const ours = /^(?:W\/)?"?r(\d{1,15})"?$/;

/** The namespace revision a flagConfigEtag names, or undefined if it names none of ours. */
export function minRevisionOf(flagConfigEtag: string | undefined): number | undefined {
  if (flagConfigEtag === undefined) return undefined;
  const m = ours.exec(flagConfigEtag.trim());
  return m ? Number(m[1]) : undefined;
}
