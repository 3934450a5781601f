// The SQL files are bundled as text (esbuild `--loader:.sql=text`, and a Vite plugin in tests).
declare module '*.sql' {
  const text: string;
  export default text;
}
