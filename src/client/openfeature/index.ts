// edgecfg/openfeature: OpenFeature providers over edgecfg. Flags are the entries of one
// namespace: flagd definitions (state, variants, defaultVariant, targeting) and static values.
export { EdgecfgProvider, type EdgecfgProviderOptions } from "./provider.ts";
