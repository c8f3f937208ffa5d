// Types for scripts/check-layers.mjs (plain Node, so `npm test` can run it before anything is built).
export interface LayerReport {
  files: number;
  edges: number;
  cycles: string[][];
  breaks: string[];
}
export function checkLayers(root: string): LayerReport;
export function rulesTable(readme: string, name: string): { units: string[]; allowed: string[] }[];
export function cycles(graph: Map<string, Set<string>>): string[][];
