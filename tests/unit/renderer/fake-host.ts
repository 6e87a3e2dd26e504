import type { DirListing, HostApi, HostInfo, RecoveryData } from '../../../src/shared/shell-contract';

export class FakeHost implements HostApi {
  title = '';
  dirty = false;
  recovery: RecoveryData | null = null;
  recent: string[] = [];
  initialFile: string | null = null;
  writes = 0;
  async info(): Promise<HostInfo> {
    return { shell: 'web', initialFile: this.initialFile, defaultDir: '/work/recipes', sep: '/', platform: 'linux', appVersion: '0.0.0' };
  }
  async openDialog() {
    return null;
  }
  async saveDialog() {
    return null;
  }
  async recentFiles() {
    return this.recent;
  }
  async addRecent(p: string) {
    this.recent = [p, ...this.recent.filter((x) => x !== p)];
    return this.recent;
  }
  async setTitle(title: string, dirty: boolean) {
    this.title = title;
    this.dirty = dirty;
  }
  async readRecovery() {
    return this.recovery;
  }
  async writeRecovery(d: RecoveryData) {
    this.writes++;
    this.recovery = structuredClone(d);
  }
  async clearRecovery() {
    this.recovery = null;
  }
  async listDir(): Promise<DirListing> {
    return { path: '/', parent: null, entries: [] };
  }
  async closeWindow() {}
  onCommand() {
    return () => undefined;
  }
}
