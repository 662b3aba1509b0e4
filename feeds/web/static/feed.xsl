<?xml version="1.0" encoding="UTF-8"?>
<!-- How a browser shows an RSS 2.0 or Atom feed of newswire: a readable page, not raw XML. Values are output
     as text (never as markup), so a hostile title stays text here as it does in the feed; only an http(s) link
     is made a link (the feeds hold no other, and this stylesheet does not rely on it). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="rss/channel/title | atom:feed/atom:title"/></title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; }
          .note { background: #eef3f9; border-radius: .5rem; padding: .75rem 1rem; }
          li { margin: .9rem 0; overflow-wrap: anywhere; } small { color: #555; } a { color: #153f73; }
        </style>
      </head>
      <body>
        <p class="note">This is a news feed. Copy its address into a feed reader to subscribe.</p>
        <h1><xsl:value-of select="rss/channel/title | atom:feed/atom:title"/></h1>
        <p><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
        <ol>
          <xsl:for-each select="rss/channel/item">
            <li dir="auto"><xsl:call-template name="title-link"><xsl:with-param name="href" select="link"/>
                <xsl:with-param name="title" select="title"/></xsl:call-template><br/>
              <small><xsl:value-of select="source"/> · <xsl:value-of select="pubDate"/></small></li>
          </xsl:for-each>
          <xsl:for-each select="atom:feed/atom:entry">
            <li dir="auto"><xsl:call-template name="title-link">
                <xsl:with-param name="href" select="atom:link[not(@rel) or @rel='alternate']/@href"/>
                <xsl:with-param name="title" select="atom:title"/></xsl:call-template><br/>
              <small><xsl:value-of select="atom:source/atom:title"/> · <xsl:value-of select="atom:published"/></small></li>
          </xsl:for-each>
        </ol>
      </body>
    </html>
  </xsl:template>
  <xsl:template name="title-link">
    <xsl:param name="href"/>
    <xsl:param name="title"/>
    <xsl:choose>
      <xsl:when test="starts-with($href, 'https://') or starts-with($href, 'http://')">
        <a href="{$href}"><xsl:value-of select="$title"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$title"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
