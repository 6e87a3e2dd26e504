/** The report model's types live in src/shared/report.ts (the editor's Compare view reads them too). */
export * from '../shared/report';
