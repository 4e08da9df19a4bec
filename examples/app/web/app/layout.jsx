import './globals.css';

export const metadata = {
  title: 'Notes',
  description: 'Reference application of the sigma.deploy collection',
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
