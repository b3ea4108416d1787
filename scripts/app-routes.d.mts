export function appRouteSegments(appDir: string): string[];
export function appRoutesModule(segments: readonly string[]): string;
export function writeAppRoutes(root: string): boolean;
