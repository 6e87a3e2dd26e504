import { baseName, isAbsolutePath, joinPath, pathSeparator, pickedPath } from '../../../src/renderer/src/editor/file-paths';

describe("the file dialog's paths", () => {
  test("the server's separator is read from its paths", () => {
    expect(pathSeparator('/home/me')).toBe('/');
    expect(pathSeparator('C:\\Users\\me')).toBe('\\');
    expect(pathSeparator('C:/Users/me')).toBe('/');
    expect(pathSeparator(undefined)).toBe('/');
  });

  test('join without doubling the separator', () => {
    expect(joinPath('/home/me', 'a.json', '/')).toBe('/home/me/a.json');
    expect(joinPath('/', 'a.json', '/')).toBe('/a.json');
    expect(joinPath('C:\\', 'a.json', '\\')).toBe('C:\\a.json');
  });

  test('absolute paths', () => {
    expect(isAbsolutePath('/x')).toBe(true);
    expect(isAbsolutePath('C:\\x')).toBe(true);
    expect(isAbsolutePath('\\\\server\\x')).toBe(true);
    expect(isAbsolutePath('x/y.json')).toBe(false);
  });

  test('the picked path: a name in the folder shown, an absolute path as typed, .json added when saving', () => {
    expect(pickedPath('  r.json ', '/home/me', 'open')).toBe('/home/me/r.json');
    expect(pickedPath('r', '/home/me', 'open')).toBe('/home/me/r');
    expect(pickedPath('r', '/home/me', 'save')).toBe('/home/me/r.json');
    expect(pickedPath('R.JSON', '/home/me', 'save')).toBe('/home/me/R.JSON');
    expect(pickedPath('/tmp/x', '/home/me', 'save')).toBe('/tmp/x.json');
    expect(pickedPath('r', 'C:\\work', 'save')).toBe('C:\\work\\r.json');
    expect(pickedPath('   ', '/home/me', 'open')).toBeNull();
  });

  test('base names on either separator', () => {
    expect(baseName('/home/me/r.json')).toBe('r.json');
    expect(baseName('C:\\work\\r.json')).toBe('r.json');
    expect(baseName('r.json')).toBe('r.json');
  });
});
