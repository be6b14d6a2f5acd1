// edgecfg/openfeature/web: the OpenFeature web provider (for @openfeature/web-sdk). A separate
// entry from edgecfg/openfeature, so a browser bundle does not pull in the server SDK.
export { EdgecfgWebProvider, type EdgecfgWebProviderOptions } from "./web-provider.ts";
